#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# keyring.py: the session keyring by raw syscalls (add_key, keyctl), for tests/security/host.t:
# a key the invoking session holds must not be readable inside the jail.
#
#   keyring.py add DESC DATA CMD...   joins a fresh session keyring, adds the "user" key DESC
#                                     with DATA to it, prints "added: True", then runs CMD
#   keyring.py read DESC              prints "key: DATA", or "key: not found (errno N)"
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
SYS_add_key, SYS_keyctl = 248, 250
if sys.argv[1] == "add":
    libc.syscall(SYS_keyctl, 1, None)  # KEYCTL_JOIN_SESSION_KEYRING: a fresh one for the test
    d = sys.argv[3].encode()
    print("added:", libc.syscall(SYS_add_key, b"user", sys.argv[2].encode(), d, len(d), ctypes.c_int(-3)) > 0, flush=True)
    import subprocess
    subprocess.run(sys.argv[4:])
else:
    k = libc.syscall(SYS_keyctl, 10, ctypes.c_int(-3), b"user", sys.argv[2].encode(), 0)
    if k < 0:
        print("key: not found (errno %d)" % ctypes.get_errno())
    else:
        b = ctypes.create_string_buffer(128)
        n = libc.syscall(SYS_keyctl, 11, k, b, 128)
        print("key:", b.raw[: max(n, 0)].decode())
