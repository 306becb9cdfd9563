/* vkmind's C API: load a model on a Vulkan device and generate from it, from
 * C or any language with a C FFI (C#, Swift, Rust, Python ctypes, Dart).
 *
 * Conventions
 * - Every call that can fail returns a vkmind_status; on failure the
 *   thread's vkmind_last_error() says why. No C++ exception crosses this
 *   boundary and no call aborts the process on bad input.
 * - Handles are opaque. A handle that was freed, or never was one, is
 *   refused with VKMIND_ERROR_INVALID_HANDLE (checked against the live
 *   handles of the process, never by reading freed memory).
 * - Options structs begin with `size`: set it to sizeof the struct you
 *   compiled against (the *_init functions do). Newer libraries accept older,
 *   smaller structs; a size the library does not know is refused.
 * - Strings are UTF-8 and NUL-terminated unless a length is given. Strings
 *   the library returns stay valid as documented at each call.
 * - Thread safety: a model may be used from many threads at once. Requests
 *   submitted from any thread are batched together on the model's engine
 *   thread (continuous batching); each request's output is what it would be
 *   alone. A request handle may be polled, waited for or cancelled from any
 *   thread, but freed only once, when no other call on it is running.
 */
#ifndef VKMIND_VKMIND_H
#define VKMIND_VKMIND_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(VKMIND_BUILDING_LIBRARY)
#define VKMIND_API __attribute__((visibility("default")))
#else
#define VKMIND_API
#endif

/* ---- Status and errors ------------------------------------------------- */

typedef enum vkmind_status {
  VKMIND_OK = 0,
  VKMIND_ERROR_INVALID_ARGUMENT = 1, /* a null pointer, a value out of range, an unknown struct size */
  VKMIND_ERROR_INVALID_HANDLE = 2,   /* freed, or not a handle of this library */
  VKMIND_ERROR_BUFFER_TOO_SMALL = 3, /* the out-size parameter says how much is needed */
  VKMIND_ERROR_LOAD_FAILED = 4,      /* the model file or folder could not be read or used */
  VKMIND_ERROR_DEVICE = 5,           /* no usable Vulkan device, or it failed */
  VKMIND_ERROR_OUT_OF_MEMORY = 6,
  VKMIND_ERROR_FAILED = 7            /* anything else; the message says what */
} vkmind_status;

/* The message of this thread's last failed call ("" if none). Valid until the
 * thread's next vkmind call. */
VKMIND_API const char* vkmind_last_error(void);

/* The library's version, "MAJOR.MINOR.PATCH". Static storage. */
VKMIND_API const char* vkmind_version(void);

/* ---- Devices ------------------------------------------------------------ */

typedef struct vkmind_device_info {
  size_t size; /* sizeof(vkmind_device_info) */
  char name[256];
  char type[32]; /* "discrete GPU", "integrated GPU", "CPU", ... */
  char driver[256];
  uint32_t vendor_id, device_id;
  uint32_t api_version; /* VK_MAKE_API_VERSION encoding */
  uint32_t subgroup_size;
  int shader_float16, shader_int8, subgroup_arithmetic; /* 0 or 1 */
  uint64_t max_storage_buffer_range;
  uint64_t device_local_bytes; /* largest device-local heap */
} vkmind_device_info;

/* Number of Vulkan devices. */
VKMIND_API vkmind_status vkmind_device_count(size_t* count);
/* Fills `info` (whose size field must be set) for device `index`. */
VKMIND_API vkmind_status vkmind_device_get_info(size_t index, vkmind_device_info* info);

/* ---- Models ------------------------------------------------------------- */

typedef struct vkmind_model vkmind_model;

typedef enum vkmind_kv_type { VKMIND_KV_F16 = 0, VKMIND_KV_F32 = 1 } vkmind_kv_type;

typedef struct vkmind_model_options {
  size_t size;            /* sizeof(vkmind_model_options) */
  const char* device;     /* index ("1") or name substring; NULL: $VKMIND_DEVICE, else the best GPU */
  uint32_t context;       /* tokens per sequence; 0: the model's, at most 4096 */
  vkmind_kv_type kv_type; /* default F16 */
  uint32_t kv_blocks;     /* KV cache blocks of 16 tokens; 0: parallel x context */
  uint32_t parallel;      /* sequences generated at once, 1..64; default 4 */
  int prefix_cache;       /* reuse KV blocks of shared prompt prefixes; default 1 */
} vkmind_model_options;

/* Sets every field to its default (and `size`). */
VKMIND_API void vkmind_model_options_init(vkmind_model_options* options);

/* Loads a GGUF file or a Hugging Face folder. `options` may be NULL (the
 * defaults). On success *model is a new handle, freed with vkmind_model_free. */
VKMIND_API vkmind_status vkmind_model_load(const char* path, const vkmind_model_options* options,
                                           vkmind_model** model);
/* Frees the model handle. Requests not yet freed keep the model loaded (and
 * keep running) until the last of them is freed. NULL is ignored. */
VKMIND_API void vkmind_model_free(vkmind_model* model);

typedef struct vkmind_model_info {
  size_t size; /* sizeof(vkmind_model_info) */
  char architecture[64];
  char chat_template[64]; /* "jinja" (the model's own template renders chats) or the built-in family */
  uint32_t vocab_size;
  uint32_t context;        /* tokens per sequence */
  uint64_t parameter_count;
} vkmind_model_info;

VKMIND_API vkmind_status vkmind_model_get_info(const vkmind_model* model, vkmind_model_info* info);

/* ---- Tokenizer and chat template ---------------------------------------- */

/* Token ids of `text`. `tokens` has room for `capacity` ids; *count receives
 * how many there are (also when the room is too small: then
 * VKMIND_ERROR_BUFFER_TOO_SMALL and nothing is written). add_bos: -1 as the
 * model says, 0 no, 1 yes. Special tokens in the text are recognised. */
VKMIND_API vkmind_status vkmind_tokenize(const vkmind_model* model, const char* text, int add_bos, int32_t* tokens,
                                         size_t capacity, size_t* count);
/* The UTF-8 text of `count` ids into `text` (capacity bytes, NUL-terminated);
 * *length receives the text's length without the NUL (needed room - 1 when
 * VKMIND_ERROR_BUFFER_TOO_SMALL). */
VKMIND_API vkmind_status vkmind_detokenize(const vkmind_model* model, const int32_t* tokens, size_t count, char* text,
                                           size_t capacity, size_t* length);

typedef struct vkmind_message {
  const char* role; /* "system", "user" or "assistant" */
  const char* content;
} vkmind_message;

/* The token ids a chat request would feed: the model's chat template rendered
 * over the messages, ending with the assistant's turn opened. Same buffer
 * rules as vkmind_tokenize. */
VKMIND_API vkmind_status vkmind_chat_tokens(const vkmind_model* model, const vkmind_message* messages, size_t count,
                                            int32_t* tokens, size_t capacity, size_t* token_count);

/* ---- Requests ----------------------------------------------------------- */

typedef struct vkmind_request vkmind_request;

typedef struct vkmind_generate_options {
  size_t size;              /* sizeof(vkmind_generate_options) */
  int32_t max_tokens;       /* -1: until a stop or the context is full; default 256 */
  float temperature;        /* 0: greedy; default 0.8 */
  int32_t top_k;            /* 0: off; default 40 */
  float top_p;              /* 1: off; default 0.95 */
  float min_p;              /* 0: off; default 0.05 */
  float repeat_penalty;     /* 1: off */
  float frequency_penalty;  /* 0: off */
  float presence_penalty;   /* 0: off */
  uint64_t seed;            /* the request's own generator */
  const char* const* stop;  /* stop strings (not in the output), `stop_count` of them; may be NULL */
  size_t stop_count;
  int ignore_eos;           /* 1: keep going past end-of-sequence tokens */
} vkmind_generate_options;

VKMIND_API void vkmind_generate_options_init(vkmind_generate_options* options);

/* Called on the model's engine thread for each generated token, with the
 * UTF-8-complete text it adds (`text` holds `length` bytes, not
 * NUL-terminated; it may be empty while a character or a possible stop string
 * is incomplete), and once more at the end with token -1 and the rest of the
 * text. `text` is valid during the call only. Keep it short: it delays every
 * request of the model. It may call vkmind_request_cancel, not
 * vkmind_request_wait or _free. */
typedef void (*vkmind_token_callback)(void* user_data, int32_t token, const char* text, size_t length);

/* Submits a request and returns at once; *request is a new handle, freed with
 * vkmind_request_free. `options` may be NULL (the defaults); `callback` may be
 * NULL (poll instead). A request that can never run (longer than the context,
 * bad sampling values) is still submitted and finishes at once with stop
 * reason "error" and the message in its statistics. */
VKMIND_API vkmind_status vkmind_submit_text(vkmind_model* model, const char* prompt,
                                            const vkmind_generate_options* options, vkmind_token_callback callback,
                                            void* user_data, vkmind_request** request);
VKMIND_API vkmind_status vkmind_submit_chat(vkmind_model* model, const vkmind_message* messages, size_t count,
                                            const vkmind_generate_options* options, vkmind_token_callback callback,
                                            void* user_data, vkmind_request** request);
VKMIND_API vkmind_status vkmind_submit_tokens(vkmind_model* model, const int32_t* tokens, size_t count,
                                              const vkmind_generate_options* options, vkmind_token_callback callback,
                                              void* user_data, vkmind_request** request);

/* The text generated since the last poll, into `text` (capacity bytes,
 * NUL-terminated; what does not fit stays for the next poll, never splitting
 * a UTF-8 character). *length: bytes written. *finished: 1 once the request
 * has ended and all its text was returned. Does not block. */
VKMIND_API vkmind_status vkmind_request_poll(vkmind_request* request, char* text, size_t capacity, size_t* length,
                                             int* finished);
/* Blocks until the request ends. */
VKMIND_API vkmind_status vkmind_request_wait(vkmind_request* request);
/* Stops the request and frees its KV blocks; a no-op once it has ended (so
 * cancelling twice is fine). */
VKMIND_API vkmind_status vkmind_request_cancel(vkmind_request* request);

typedef struct vkmind_stats {
  size_t size; /* sizeof(vkmind_stats) */
  int finished;
  uint32_t prompt_tokens, cached_prompt_tokens, generated_tokens;
  double queue_ms, time_to_first_token_ms, prefill_tokens_per_s, decode_tokens_per_s;
  char stop_reason[32]; /* "eos", "stop string", "max tokens", "context full", "cancelled", "error"; "" while running */
  char error[256];      /* why, with stop reason "error" */
} vkmind_stats;

/* The request's statistics: final once it has ended (finished = 1). */
VKMIND_API vkmind_status vkmind_request_get_stats(vkmind_request* request, vkmind_stats* stats);
/* The generated token ids so far (same buffer rules as vkmind_tokenize). */
VKMIND_API vkmind_status vkmind_request_get_tokens(vkmind_request* request, int32_t* tokens, size_t capacity,
                                                   size_t* count);
/* Cancels the request if it still runs, waits for its end, frees the handle.
 * NULL is ignored. */
VKMIND_API void vkmind_request_free(vkmind_request* request);

#ifdef __cplusplus
}
#endif

#endif /* VKMIND_VKMIND_H */
