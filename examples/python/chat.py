#!/usr/bin/env python3
"""The C API from Python through ctypes (standard library only): load a model,
tokenize, and stream a chat reply through a callback.

    python3 examples/python/chat.py MODEL "Hello" [--lib /usr/local/lib/libvkmind.so]
"""
import argparse
import ctypes
import sys


class ModelOptions(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("device", ctypes.c_char_p), ("context", ctypes.c_uint32),
                ("kv_type", ctypes.c_int), ("kv_blocks", ctypes.c_uint32), ("parallel", ctypes.c_uint32),
                ("prefix_cache", ctypes.c_int)]


class GenerateOptions(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("max_tokens", ctypes.c_int32), ("temperature", ctypes.c_float),
                ("top_k", ctypes.c_int32), ("top_p", ctypes.c_float), ("min_p", ctypes.c_float),
                ("repeat_penalty", ctypes.c_float), ("frequency_penalty", ctypes.c_float),
                ("presence_penalty", ctypes.c_float), ("seed", ctypes.c_uint64),
                ("stop", ctypes.POINTER(ctypes.c_char_p)), ("stop_count", ctypes.c_size_t),
                ("ignore_eos", ctypes.c_int)]


class Message(ctypes.Structure):
    _fields_ = [("role", ctypes.c_char_p), ("content", ctypes.c_char_p)]


class Stats(ctypes.Structure):
    _fields_ = [("size", ctypes.c_size_t), ("finished", ctypes.c_int), ("prompt_tokens", ctypes.c_uint32),
                ("cached_prompt_tokens", ctypes.c_uint32), ("generated_tokens", ctypes.c_uint32),
                ("queue_ms", ctypes.c_double), ("time_to_first_token_ms", ctypes.c_double),
                ("prefill_tokens_per_s", ctypes.c_double), ("decode_tokens_per_s", ctypes.c_double),
                ("stop_reason", ctypes.c_char * 32), ("error", ctypes.c_char * 256)]


TOKEN_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int32, ctypes.POINTER(ctypes.c_char), ctypes.c_size_t)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("message")
    parser.add_argument("--lib", default="libvkmind.so.0.1")
    parser.add_argument("-n", type=int, default=32)
    args = parser.parse_args()

    lib = ctypes.CDLL(args.lib)
    # Prototypes, so that sizes and pointers pass as the C header says.
    P = ctypes.POINTER
    vp, sz = ctypes.c_void_p, ctypes.c_size_t
    for name, restype, argtypes in [
        ("vkmind_last_error", ctypes.c_char_p, []),
        ("vkmind_version", ctypes.c_char_p, []),
        ("vkmind_model_options_init", None, [P(ModelOptions)]),
        ("vkmind_model_load", ctypes.c_int, [ctypes.c_char_p, P(ModelOptions), P(vp)]),
        ("vkmind_model_free", None, [vp]),
        ("vkmind_tokenize", ctypes.c_int, [vp, ctypes.c_char_p, ctypes.c_int, P(ctypes.c_int32), sz, P(sz)]),
        ("vkmind_generate_options_init", None, [P(GenerateOptions)]),
        ("vkmind_submit_chat", ctypes.c_int, [vp, P(Message), sz, P(GenerateOptions), TOKEN_CALLBACK, vp, P(vp)]),
        ("vkmind_request_wait", ctypes.c_int, [vp]),
        ("vkmind_request_get_stats", ctypes.c_int, [vp, P(Stats)]),
        ("vkmind_request_free", None, [vp]),
    ]:
        getattr(lib, name).restype = restype
        getattr(lib, name).argtypes = argtypes
    handle = ctypes.c_void_p()

    def check(status):
        if status != 0:
            sys.exit("vkmind: " + lib.vkmind_last_error().decode())

    options = ModelOptions()
    lib.vkmind_model_options_init(ctypes.byref(options))
    check(lib.vkmind_model_load(args.model.encode(), ctypes.byref(options), ctypes.byref(handle)))
    if handle.value is None:
        sys.exit("vkmind: no model")
    print(f"vkmind {lib.vkmind_version().decode()}", file=sys.stderr)

    count = ctypes.c_size_t()
    lib.vkmind_tokenize(handle, args.message.encode(), -1, None, 0, ctypes.byref(count))
    print(f"'{args.message}' is {count.value} tokens", file=sys.stderr)

    generate = GenerateOptions()
    lib.vkmind_generate_options_init(ctypes.byref(generate))
    generate.temperature = 0.0
    generate.max_tokens = args.n
    messages = (Message * 1)(Message(b"user", args.message.encode()))
    reply = bytearray()

    @TOKEN_CALLBACK
    def on_token(_user, _token, text, length):  # runs on the engine thread
        reply.extend(ctypes.string_at(text, length))

    request = ctypes.c_void_p()
    check(lib.vkmind_submit_chat(handle, messages, 1, ctypes.byref(generate), on_token, None, ctypes.byref(request)))
    check(lib.vkmind_request_wait(request))
    stats = Stats(size=ctypes.sizeof(Stats))
    check(lib.vkmind_request_get_stats(request, ctypes.byref(stats)))
    sys.stdout.write(reply.decode("utf-8", "replace") + "\n")
    print(f"[{stats.generated_tokens} tokens, {stats.stop_reason.decode()}]", file=sys.stderr)
    lib.vkmind_request_free(request)
    lib.vkmind_model_free(handle)


if __name__ == "__main__":
    main()
