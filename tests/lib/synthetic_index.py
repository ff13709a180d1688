#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# synthetic_index.py: the index a synthetic address of boundary's DNS carries (198.18.0.0 + i,
# fd42:b0d:53::i), for comparing the two families' answers (tests/e2e/resolvers.t).
#
#   synthetic_index.py ADDR   prints i
import ipaddress, sys
a = ipaddress.ip_address(sys.argv[1])
base = ipaddress.ip_address("198.18.0.0" if a.version == 4 else "fd42:b0d:53::")
print(int(a) - int(base))
