#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# k8s_manifests.t: deploy/kubernetes, checked without a cluster and without the network. Every
# manifest is parsed with python3's yaml; the DaemonSet must run `boundary k8s-node` with what
# docs/KUBERNETES.md says it has (the capabilities of its Privileges table and nothing more, not
# privileged, hostPID, each host path of its table mounted, the CRI socket at --cri-socket, the
# policies ConfigMap at --policy-dir, no ServiceAccount token since no RBAC is shipped); every
# named policy in the ConfigMap must load as a boundary config file, and every rule of the
# example pod's annotations must parse, both through `$BOUNDARY ... --test`, which decides
# offline and resolves nothing. The kustomization must list every manifest but the example.
#
# No Kubernetes schema validator is checked against: Debian 12 packages neither kubeconform nor
# kubeval. When kubectl is installed (Debian's kubernetes-client), `kubectl kustomize` renders
# the kustomization offline; otherwise that test is skipped. Needs no root.
. "$(dirname "$0")/../lib/tap.sh"

REPO=$(cd "$(dirname "$0")/../.." && pwd -P)
K8S=$REPO/deploy/kubernetes
DOC=$REPO/docs/KUBERNETES.md
export HOME=$TMPDIR_T/home
mkdir -p "$HOME"

if ! python3 -c 'import yaml' 2>/dev/null; then
	fail "python3's yaml is not installed (python3-yaml)"
	done_testing
	exit 1
fi

# --- the manifests, read by python: one "ok DESC" or "not ok DESC" line per check ------------
# It also writes the ConfigMap's policies to $TMPDIR_T/policies/NAME and the example pod's rules
# to $TMPDIR_T/rules.{allow,deny}, for boundary to read below.

mkdir -p "$TMPDIR_T/policies"
python3 - "$K8S" "$DOC" "$TMPDIR_T" >"$TMPDIR_T/py.out" 2>"$TMPDIR_T/py.err" <<'PY'
import glob, os, re, sys, yaml

k8s, doc, tmp = sys.argv[1:4]

def check(cond, desc, why=""):
    print(("ok " if cond else "not ok ") + desc + ("" if cond or not why else " (%s)" % why))

docs = {}
files = sorted(os.path.basename(f) for f in glob.glob(os.path.join(k8s, "*.yaml")))
for f in files:
    try:
        loaded = [d for d in yaml.safe_load_all(open(os.path.join(k8s, f))) if d is not None]
    except yaml.YAMLError as e:
        check(False, "%s parses as YAML" % f, str(e).replace("\n", " "))
        continue
    check(len(loaded) > 0, "%s parses as YAML and holds a document" % f)
    for d in loaded:
        name = (d.get("metadata") or {}).get("name")
        if d.get("kind") != "Kustomization":
            check(bool(d.get("apiVersion")) and bool(d.get("kind")) and bool(name),
                  "%s: %s has apiVersion, kind and metadata.name" % (f, d.get("kind")))
        docs.setdefault(d.get("kind"), []).append((f, d))

def one(kind):
    got = docs.get(kind, [])
    check(len(got) == 1, "exactly one %s" % kind, "%d" % len(got))
    return got[0][1] if got else {}

ns = one("Namespace")
ds = one("DaemonSet")
sa = one("ServiceAccount")
cm = one("ConfigMap")
pod = one("Pod")
kz = one("Kustomization")
nsname = ns.get("metadata", {}).get("name")
for kind in ("DaemonSet", "ServiceAccount", "ConfigMap"):
    for f, d in docs.get(kind, []):
        check(d["metadata"].get("namespace") == nsname,
              "%s %s is in the namespace %s" % (kind, d["metadata"]["name"], nsname))

# The DaemonSet.
spec = ds.get("spec", {})
tpl = spec.get("template", {})
labels = tpl.get("metadata", {}).get("labels", {})
sel = spec.get("selector", {}).get("matchLabels", {})
check(sel and all(labels.get(k) == v for k, v in sel.items()),
      "the DaemonSet's selector matches its pods' labels")
ps = tpl.get("spec", {})
cs = ps.get("containers", [])
check(len(cs) == 1, "the agent's pod has one container")
c = cs[0] if cs else {}
argv = (c.get("command") or []) + (c.get("args") or [])
check(len(argv) >= 2 and os.path.basename(argv[0]) == "boundary" and argv[1] == "k8s-node",
      "the container runs `boundary k8s-node`", " ".join(argv))
check(c.get("image") == "boundary:latest" and c.get("imagePullPolicy") == "IfNotPresent",
      "image boundary:latest, IfNotPresent")

def arg(flag):
    for i, a in enumerate(argv):
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
        if a == flag and i + 1 < len(argv):
            return argv[i + 1]
    return None

known = ("--cri-socket", "--policy-dir", "--state-dir", "--scan-interval", "--allow", "--deny",
         "--audit-log", "--log-level")
for a in argv[2:]:
    check(a.split("=", 1)[0] in known or not a.startswith("-"),
          "flag %s is one of boundary k8s-node's" % a.split("=", 1)[0])

check(ps.get("hostPID") is True, "hostPID: true")
check(not ps.get("hostNetwork"), "not hostNetwork (the agent needs none of the host's interfaces)")
check(ps.get("automountServiceAccountToken") is False and sa.get("automountServiceAccountToken") is False,
      "no ServiceAccount token, on the pod and on the ServiceAccount")
check(ps.get("serviceAccountName") == sa.get("metadata", {}).get("name"),
      "the pod runs as the shipped ServiceAccount")
rbac = [k for k in docs if k in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")]
check(not rbac, "no Role or binding shipped, as no token is mounted", ",".join(rbac))
check({"operator": "Exists"} in (ps.get("tolerations") or []), "tolerates every taint")
check(not c.get("readinessProbe") and not c.get("livenessProbe"),
      "no probe: boundary k8s-node offers nothing to probe")
check(bool(c.get("resources", {}).get("requests")) and
      bool(c.get("resources", {}).get("limits", {}).get("memory")),
      "resources: requests, and a memory limit")

sc = c.get("securityContext", {})
check(sc.get("privileged") is False, "privileged: false, said explicitly")
check(sc.get("allowPrivilegeEscalation") is not False,
      "allowPrivilegeEscalation not false (the API refuses it beside SYS_ADMIN)")
caps = sc.get("capabilities", {})
check(caps.get("drop") == ["ALL"], "capabilities: drop ALL")
added = set(caps.get("add") or [])
text = open(doc).read() if os.path.exists(doc) else ""
check(bool(text), "docs/KUBERNETES.md exists")
doc_caps = set(re.findall(r"^\| `CAP_([A-Z_]+)` \|", text, re.M))
check(doc_caps and added == doc_caps,
      "the capabilities added are those docs/KUBERNETES.md's table lists",
      "manifest %s, docs %s" % (sorted(added), sorted(doc_caps)))
check(re.search(r"not `privileged: true`", text) is not None,
      "docs/KUBERNETES.md says the agent is not privileged")
check(sc.get("seccompProfile", {}).get("type") == "Unconfined",
      "seccomp Unconfined, as the docs say")
check(sc.get("appArmorProfile", {}).get("type") == "Unconfined",
      "AppArmor unconfined, as the docs say")

vols = {v["name"]: v for v in ps.get("volumes", [])}
mounts = c.get("volumeMounts", [])
hostmounts = {}
for m in mounts:
    v = vols.get(m["name"])
    check(v is not None, "volumeMount %s has its volume" % m["name"])
    if v and "hostPath" in v:
        check(v["hostPath"]["path"] == m["mountPath"],
              "host path %s is mounted at the same path" % v["hostPath"]["path"],
              m["mountPath"])
        hostmounts[v["hostPath"]["path"]] = (m, v)
doc_paths = set(re.findall(r"^\| host path `([^`]+)` \|", text, re.M))
check(doc_paths and set(hostmounts) == doc_paths,
      "the host paths mounted are those docs/KUBERNETES.md's table lists",
      "manifest %s, docs %s" % (sorted(hostmounts), sorted(doc_paths)))
for p in ("/sys/fs/cgroup", "/sys/fs/bpf", "/run/boundary"):
    check(p in hostmounts, "host path %s is mounted" % p)
bpf = hostmounts.get("/sys/fs/bpf", ({}, {}))[0]
check(bpf.get("mountPropagation") == "HostToContainer",
      "bpffs mounted HostToContainer (Bidirectional would need privileged)")
cri = arg("--cri-socket") or "/run/containerd/containerd.sock"
m, v = hostmounts.get(cri, ({}, {}))
check(v.get("hostPath", {}).get("type") == "Socket" and m.get("readOnly") is True,
      "the CRI socket %s is mounted, type Socket, read-only" % cri)
state = arg("--state-dir") or "/run/boundary/node"
check(any(state == p or state.startswith(p + "/") for p in hostmounts),
      "--state-dir %s is on a host path (a restarted agent finds it)" % state)
audit = arg("--audit-log")
if audit and audit.startswith("/"):
    check(any(audit == p or audit.startswith(p + "/") for p in hostmounts),
          "--audit-log %s is on a host path" % audit)

pdir = arg("--policy-dir") or "/etc/boundary/policies"
cmname = cm.get("metadata", {}).get("name")
pm = [m for m in mounts if vols.get(m["name"], {}).get("configMap", {}).get("name") == cmname]
check(len(pm) == 1 and pm[0]["mountPath"] == pdir and "subPath" not in pm[0],
      "the ConfigMap %s is mounted whole (no subPath) at --policy-dir %s" % (cmname, pdir),
      str(pm))

# The named policies and the example pod's rules, for boundary to check.
pols = cm.get("data", {})
check(len(pols) >= 2 and all(k.endswith(".yaml") for k in pols),
      "the ConfigMap holds named policies, NAME.yaml", ",".join(pols))
for k, body in pols.items():
    open(os.path.join(tmp, "policies", k), "w").write(body)
ann = pod.get("metadata", {}).get("annotations", {})
check(bool(ann.get("boundary.dev/allow") or ann.get("boundary.dev/deny") or
           ann.get("boundary.dev/policy")), "the example pod is annotated to be jailed")
if ann.get("boundary.dev/policy"):
    check(ann["boundary.dev/policy"] + ".yaml" in pols,
          "the example pod's policy %s is in the ConfigMap" % ann["boundary.dev/policy"])
check(ann.get("boundary.dev/mode", "block") in ("audit", "block"),
      "the example pod's mode is audit or block")
for key in ("allow", "deny"):
    with open(os.path.join(tmp, "rules." + key), "w") as out:
        for line in (ann.get("boundary.dev/" + key) or "").splitlines():
            if line.strip() and not line.strip().startswith("#"):
                out.write(line.strip() + "\n")
pc = pod.get("spec", {}).get("containers", [{}])[0].get("securityContext", {})
check(not pc.get("capabilities") and not pc.get("privileged"),
      "the example pod asks for no capability")

# The kustomization: every manifest but the example, and nothing that is not there.
res = kz.get("resources", [])
want = set(files) - {"kustomization.yaml", "example-pod.yaml"}
check(set(res) == want, "the kustomization lists every manifest but example-pod.yaml",
      "lists %s, want %s" % (sorted(res), sorted(want)))
for r in res:
    check(os.path.exists(os.path.join(k8s, r)), "kustomization resource %s exists" % r)
PY
py_rc=$?
while IFS= read -r line; do
	case "$line" in
	"ok "*) ok "${line#ok }" ;;
	"not ok "*) fail "${line#not ok }" ;;
	esac
done <"$TMPDIR_T/py.out"
if [ "$py_rc" != 0 ]; then
	fail "the manifest checks ran to the end (python exited $py_rc)"
	sed 's/^/# /' "$TMPDIR_T/py.err"
fi

# --- what boundary makes of the policies and the rules ------------------------------------------

# --test decides offline: exit 0 (allowed) or 1 (refused); 125 is a file or rule that does not load.
loads() {
	run_b "$@" --test https://api.github.com/repos/x/y
	[ "$rc" = 0 ] || [ "$rc" = 1 ]
}

n=0
for f in "$TMPDIR_T"/policies/*.yaml; do
	[ -e "$f" ] || continue
	n=$((n + 1))
	check "policy ${f##*/} loads as a boundary config file" loads --config "$f"
	[ "$rc" = 0 ] || [ "$rc" = 1 ] || diag "stderr: $err"
done
check "there were policies to check ($n)" [ "$n" -ge 2 ]

# github-readonly means what its name says: GET to the API, no POST.
if [ -f "$TMPDIR_T/policies/github-readonly.yaml" ]; then
	run_b --config "$TMPDIR_T/policies/github-readonly.yaml" --test GET https://api.github.com/repos/x/y
	expect_rc "github-readonly allows GET https://api.github.com/repos/x/y" 0
	run_b --config "$TMPDIR_T/policies/github-readonly.yaml" --test POST https://api.github.com/repos/x/y/issues
	expect_rc "github-readonly refuses POST to the API" 1
fi

n=0
while IFS= read -r rule; do
	n=$((n + 1))
	check "the example pod's allow rule parses: $rule" loads --allow "$rule"
	[ "$rc" = 0 ] || [ "$rc" = 1 ] || diag "stderr: $err"
done <"$TMPDIR_T/rules.allow"
while IFS= read -r rule; do
	n=$((n + 1))
	check "the example pod's deny rule parses: $rule" loads --allow "domain=api.github.com" --deny "$rule"
	[ "$rc" = 0 ] || [ "$rc" = 1 ] || diag "stderr: $err"
done <"$TMPDIR_T/rules.deny"
check "the example pod had rules to check ($n)" [ "$n" -ge 1 ]

# The check itself can fail: a rule with a misspelt key does not load.
check "a misspelt rule is refused (the check can fail)" not loads --allow "domain=api.github.com mehod=GET"
printf 'allow:\n  - "domain=a.com"\n' >"$TMPDIR_T/allow-key.yaml"
check "a policy with the key allow: is refused (it is allowlist:)" not loads --config "$TMPDIR_T/allow-key.yaml"

# --- the kustomization, rendered, when kubectl is here -------------------------------------------

if command -v kubectl >/dev/null; then
	if kubectl kustomize "$K8S" >"$TMPDIR_T/rendered.yaml" 2>"$TMPDIR_T/kz.err"; then
		ok "kubectl kustomize renders deploy/kubernetes"
	else
		fail "kubectl kustomize renders deploy/kubernetes"
		sed 's/^/# /' "$TMPDIR_T/kz.err"
	fi
else
	skip "kubectl is not installed: the kustomization is not rendered"
fi

done_testing
