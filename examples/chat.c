/* A small chat on the vkmind C API: each line of standard input is a user
 * message; the reply streams to standard output through a callback.
 *
 *   chat MODEL [max_tokens]      (greedy; VKMIND_DEVICE picks the device)
 *
 * Build it against an installed vkmind:
 *   cc chat.c $(pkg-config --cflags --libs vkmind) -o chat
 * or with CMake: find_package(vkmind) and link vkmind::vkmind (CMakeLists.txt here). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vkmind/vkmind.h>

#define MAX_TURNS 64

static char* copy_text(const char* s) {
  const size_t n = strlen(s) + 1;
  char* copy = malloc(n);
  if (copy) memcpy(copy, s, n);
  return copy;
}

static void on_token(void* user_data, int32_t token, const char* text, size_t length) {
  (void)token;
  fwrite(text, 1, length, (FILE*)user_data);
  fflush((FILE*)user_data);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL [max_tokens]\n", argv[0]);
    return 2;
  }
  vkmind_model_options options;
  vkmind_model_options_init(&options);
  options.context = 1024;
  vkmind_model* model = NULL;
  if (vkmind_model_load(argv[1], &options, &model) != VKMIND_OK) {
    fprintf(stderr, "chat: %s\n", vkmind_last_error());
    return 1;
  }
  vkmind_generate_options generate;
  vkmind_generate_options_init(&generate);
  generate.temperature = 0; /* greedy: the same reply every run */
  generate.max_tokens = argc > 2 ? atoi(argv[2]) : 64;

  /* The conversation so far; earlier turns come back from the prefix cache. */
  vkmind_message turns[MAX_TURNS];
  char* texts[MAX_TURNS];
  size_t count = 0;
  char line[4096];
  int status = 0;
  while (count + 2 <= MAX_TURNS && fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = '\0';
    texts[count] = copy_text(line);
    turns[count] = (vkmind_message){"user", texts[count]};
    ++count;
    vkmind_request* request = NULL;
    if (vkmind_submit_chat(model, turns, count, &generate, on_token, stdout, &request) != VKMIND_OK ||
        vkmind_request_wait(request) != VKMIND_OK) {
      fprintf(stderr, "chat: %s\n", vkmind_last_error());
      status = 1;
      vkmind_request_free(request);
      break;
    }
    /* The reply's text, for the next turn's history. */
    size_t n = 0;
    vkmind_request_get_tokens(request, NULL, 0, &n);
    int32_t* ids = malloc((n + 1) * sizeof *ids);
    vkmind_request_get_tokens(request, ids, n, &n);
    size_t length = 0;
    vkmind_detokenize(model, ids, n, NULL, 0, &length);
    char* reply = malloc(length + 1);
    vkmind_detokenize(model, ids, n, reply, length + 1, &length);
    free(ids);
    vkmind_stats stats = {.size = sizeof stats};
    vkmind_request_get_stats(request, &stats);
    fprintf(stderr, "\n[%u prompt tokens, %u cached, %u generated, %s]\n", stats.prompt_tokens,
            stats.cached_prompt_tokens, stats.generated_tokens, stats.stop_reason);
    printf("\n");
    vkmind_request_free(request);
    texts[count] = reply;
    turns[count] = (vkmind_message){"assistant", reply};
    ++count;
  }
  for (size_t i = 0; i < count; ++i) free(texts[i]);
  vkmind_model_free(model);
  return status;
}
