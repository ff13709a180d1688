/* SPDX-License-Identifier: MIT */
/*
 * doctor.h: boundary doctor, what this machine allows. It asks the kernel and the files what each
 * mode of boundary needs (cgroup v2, the BPF programs, privileges, user namespaces, Landlock,
 * seccomp, the BPF filesystem), looks for what killed runs left, and checks the CA and the config
 * file, through the probes the jail itself uses; then it says which modes work here and why the
 * others do not. It changes nothing: the BPF programs it loads are closed again, unpinned and
 * unattached, no CA is made and nothing stale is removed.
 */
#ifndef BOUNDARY_USER_DOCTOR_H
#define BOUNDARY_USER_DOCTOR_H

struct opts;

/*
 * Writes the report to stdout, as text or, with o->log_format OPTS_LOG_JSON, one JSON object.
 * Reads the config file o->config (or BOUNDARY_CONFIG, or the default one) itself, so that its
 * errors are a finding, not a stop. Returns 0 when the default mode (the config's jail_type, or
 * nsjail) works here, 1 when it does not, 125 when the report cannot be written.
 */
int doctor_run(const struct opts *o);

#endif /* BOUNDARY_USER_DOCTOR_H */
