#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# summary_json_check.py: reads back `boundary log summary --format json` of tests/e2e/log_summary.t's
# sample log, and asserts its hosts, their order, counts, kinds, processes and suggested rules.
#
#   summary_json_check.py FILE    exits 0 when FILE is that summary, else with an assertion
#                                 error saying what differs
import json, sys
d = json.load(open(sys.argv[1]))
assert (d["records"], d["invalid_lines"], d["dropped"]) == (13, 2, 2), d
hosts = [(h["host"], h["port"]) for h in d["hosts"]]
assert hosts == [("evil.test", None), ("10.9.8.7", 5432), ("[2001:db8::1]", None),
                 ("db.test", 5432), ("tunnel.test", None), ("api.example.com", None),
                 ("mail.test", 993)], hosts
h = d["hosts"][0]
assert h == {"host": "evil.test", "port": None, "kinds": ["http", "https"], "allowed": 0,
             "refused": 2, "would_refuse": 0, "dns": 0, "comms": ["curl", "node"],
             "pids": [102, 103],
             "allow": "domain=evil.test", "exe": None, "allow_exe": None}, h
# one executable made every request to tunnel.test: an exe= rule for it is proposed too
tun = d["hosts"][4]
assert (tun["exe"], tun["allow_exe"]) == ("/usr/bin/git", "exe=/usr/bin/git domain=tunnel.test"), tun
tcp = d["hosts"][3]
assert tcp["kinds"] == ["tcp"] and tcp["dns"] is None and tcp["refused"] == 1, tcp
assert tcp["allow"] == "domain=db.test port=5432", tcp
api = d["hosts"][5]
assert (api["allowed"], api["refused"], api["dns"], api["allow"]) == (2, 0, 1, None), api
assert api["kinds"] == ["https", "dns"] and api["comms"] == ["curl", "python3"], api
tls = d["hosts"][6]
assert (tls["kinds"], tls["allowed"], tls["allow"]) == (["tls"], 1, None), tls
