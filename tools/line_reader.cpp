#include "tools/line_reader.h"

#include <cerrno>
#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cstdint>
#include <cwchar>
#include <utility>

#include <langinfo.h>

#include <poll.h>
#include <unistd.h>

#include "tools/edit_library.h"

namespace vkmind::cli {

namespace {

constexpr char kInterruptByte = 0x03;  // Ctrl-C when the terminal does not turn it into SIGINT

bool input_waiting(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

bool is_continued(std::string& line) {
  if (line.empty() || line.back() != '\\') return false;
  line.pop_back();
  return true;
}

}  // namespace

struct LineReader::Impl {
  InterruptGuard& interrupts;
  const EditLibrary* lib = nullptr;  // set with el
  EditLine* el = nullptr;
  History* history = nullptr;
  std::string prompt;
  bool interrupted = false;
  std::string typed_at_interrupt;
  std::string pending;  // plain mode: bytes read past the last newline
  bool at_eof = false;

  explicit Impl(InterruptGuard& i) : interrupts(i) {
    if (!::isatty(STDIN_FILENO) || !::isatty(STDOUT_FILENO)) return;
    const char* term = std::getenv("TERM");
    if (term && std::strcmp(term, "dumb") == 0) return;
    // libedit hands lines back in the locale's encoding: make sure it is UTF-8.
    if (!std::setlocale(LC_CTYPE, "") || std::strcmp(nl_langinfo(CODESET), "UTF-8") != 0) {
      std::setlocale(LC_CTYPE, "C.UTF-8");
    }
    lib = edit_library();
    if (!lib) return;  // no libedit: plain lines
    el = lib->el_init("vkmind", stdin, stdout, stderr);
    if (!el) return;
    lib->el_set(el, EL_CLIENTDATA, this);
    lib->el_set(el, EL_EDITOR, "emacs");
    lib->el_set(el, EL_PROMPT, &Impl::prompt_text);
    lib->el_set(el, EL_GETCFN, &Impl::read_char);
    history = lib->history_init();
    HistEvent ev;
    lib->history(history, &ev, H_SETSIZE, 1000);
    lib->el_set(el, EL_HIST, lib->history, history);
  }

  ~Impl() {
    if (history) lib->history_end(history);
    if (el) lib->el_end(el);
  }

  static Impl* self(EditLine* e) {
    void* data = nullptr;
    edit_library()->el_get(e, EL_CLIENTDATA, &data);
    return static_cast<Impl*>(data);
  }
  static const char* prompt_text(EditLine* e) { return self(e)->prompt.c_str(); }

  // One byte from stdin, watching for Ctrl-C: 1 read, 0 end of input, -1 interrupted.
  int next_byte(unsigned char& c) {
    while (true) {
      if (interrupts.pending()) return -1;
      pollfd p{STDIN_FILENO, POLLIN, 0};
      // A bounded wait: the signal may land on another thread (the Vulkan
      // driver's), so an interrupted read() cannot be relied on.
      const int r = ::poll(&p, 1, 100);
      if (r < 0 && errno != EINTR) return 0;
      if (r <= 0) continue;
      const ssize_t n = ::read(STDIN_FILENO, &c, 1);
      if (n == 1) {
        if (c == kInterruptByte) return -1;
        return 1;
      }
      if (n == 0 || errno != EINTR) return 0;
    }
  }

  // libedit's character source: UTF-8 decoded here, Ctrl-C noted.
  static int read_char(EditLine* e, wchar_t* out) {
    Impl* s = self(e);
    unsigned char c;
    int r = s->next_byte(c);
    if (r == 0) {
      *out = 0;
      return 0;
    }
    if (r < 0) {
      // Ends the line as Enter would (an error return would leave libedit
      // half out of edit mode); edit_line() then reports the interrupt.
      s->interrupted = true;
      const LineInfo* li = s->lib->el_line(e);
      s->typed_at_interrupt = li ? std::string(li->buffer, li->lastchar) : "";
      std::fputs("^C", stdout);
      std::fflush(stdout);
      *out = L'\n';
      return 1;
    }
    const int extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : -1;
    if (extra < 0) {
      *out = 0xFFFD;
      return 1;
    }
    uint32_t cp = extra == 0 ? c : extra == 1 ? (c & 0x1F) : extra == 2 ? (c & 0x0F) : (c & 0x07);
    for (int i = 0; i < extra; ++i) {
      unsigned char cont;
      if (s->next_byte(cont) != 1 || (cont & 0xC0) != 0x80) {
        *out = 0xFFFD;
        return 1;
      }
      cp = (cp << 6) | (cont & 0x3F);
    }
    *out = wchar_t(cp);
    return 1;
  }

  ReadStatus edit_line(const std::string& p, std::string& line) {
    prompt = p;
    interrupted = false;
    int count = 0;
    const char* text = lib->el_gets(el, &count);
    if (interrupted) {
      line = typed_at_interrupt;
      return ReadStatus::Interrupted;
    }
    if (!text || count <= 0) {
      std::fputc('\n', stdout);
      return ReadStatus::EndOfInput;
    }
    line.assign(text, size_t(count));
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    return ReadStatus::Message;
  }

  ReadStatus plain_line(const std::string& p, std::string& line) {
    std::fputs(p.c_str(), stdout);
    std::fflush(stdout);
    while (true) {
      if (auto nl = pending.find('\n'); nl != std::string::npos) {
        line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return ReadStatus::Message;
      }
      if (at_eof) {
        if (pending.empty()) return ReadStatus::EndOfInput;
        line = std::exchange(pending, {});
        return ReadStatus::Message;
      }
      if (interrupts.pending()) {
        line = std::exchange(pending, {});
        std::fputs("^C\n", stdout);
        return ReadStatus::Interrupted;
      }
      pollfd pf{STDIN_FILENO, POLLIN, 0};
      const int r = ::poll(&pf, 1, 100);
      if (r <= 0) continue;
      char buf[4096];
      const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
      if (n > 0) {
        pending.append(buf, size_t(n));
      } else if (n == 0 || errno != EINTR) {
        at_eof = true;
      }
    }
  }

  ReadStatus next_line(const std::string& p, std::string& line) {
    interrupts.set_reading(true);
    const ReadStatus s = el ? edit_line(p, line) : plain_line(p, line);
    interrupts.set_reading(false);
    return s;
  }

  ReadResult read(const std::string& first_prompt, const std::string& more_prompt) {
    std::string message, line;
    const std::string* p = &first_prompt;
    while (true) {
      const ReadStatus s = next_line(*p, line);
      if (s == ReadStatus::Interrupted) return {s, message + line};
      if (s == ReadStatus::EndOfInput) {
        if (message.empty()) return {s, ""};
        return {ReadStatus::Message, message};
      }
      const bool continued = is_continued(line);
      message += line;
      // A paste arrives faster than anyone types: lines already waiting join the message.
      if (continued || (el && input_waiting(STDIN_FILENO))) {
        message += '\n';
        p = &more_prompt;
        continue;
      }
      if (el && !message.empty()) {
        HistEvent ev;
        lib->history(history, &ev, H_ENTER, message.c_str());
      }
      return {ReadStatus::Message, message};
    }
  }
};

LineReader::LineReader(InterruptGuard& interrupts) : impl_(std::make_unique<Impl>(interrupts)) {}
LineReader::~LineReader() = default;
ReadResult LineReader::read(const std::string& prompt, const std::string& continuation_prompt) {
  return impl_->read(prompt, continuation_prompt);
}
bool LineReader::editing() const { return impl_->el != nullptr; }

}  // namespace vkmind::cli
