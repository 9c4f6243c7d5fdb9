"""sbatch: submit a batch script (file, stdin or --wrap) with #SBATCH directives."""
import getopt
import os
import shlex
import socket
import sys
import time

from . import config, hostlist, rpc, timefmt

SHORT = "A:c:D:e:hi:J:n:N:o:p:q:Qt:vVw:Wx:"
LONG = ["account=", "begin=", "chdir=", "comment=", "constraint=", "cpus-per-task=", "error=", "exclude=",
        "exclusive", "export=", "get-user-env", "gres=", "gpus=", "help", "input=", "job-name=", "mail-type=",
        "mail-user=", "mem=", "mem-per-cpu=", "nodelist=", "nodes=", "ntasks=", "ntasks-per-node=", "no-requeue",
        "open-mode=", "output=", "parsable", "partition=", "qos=", "quiet", "requeue", "signal=", "time=",
        "verbose", "version", "wait", "wrap="]
ALIASES = {"-A": "account", "-c": "cpus-per-task", "-D": "chdir", "-e": "error", "-h": "help", "-i": "input",
           "-J": "job-name", "-n": "ntasks", "-N": "nodes", "-o": "output", "-p": "partition", "-q": "qos",
           "-Q": "quiet", "-t": "time", "-v": "verbose", "-V": "version", "-w": "nodelist", "-W": "wait",
           "-x": "exclude"}
USAGE = """Usage: sbatch [OPTIONS(0)...] [ : [OPTIONS(N)...]] script(0) [args(0)...]

Parallel run options:
  -A, --account=name          charge job to specified account
      --begin=time            defer job until HH:MM MM/DD/YY
  -c, --cpus-per-task=ncpus   number of cpus required per task
  -D, --chdir=directory       set working directory for batch script
  -e, --error=err             file for batch script's standard error
  -J, --job-name=jobname      name of job
  -N, --nodes=N               number of nodes on which to run (N = min[-max])
  -n, --ntasks=ntasks         number of tasks to run
  -o, --output=out            file for batch script's standard output
  -p, --partition=partition   partition requested
      --parsable              outputs only the jobid and cluster name (if present),
  -t, --time=minutes          time limit
  -w, --nodelist=hosts...     request a specific list of hosts
      --wrap[=command string] wrap command string in a sh script and submit
"""


def fail(msg):
    rpc.error(msg)
    sys.exit(1)


def parse(args, stop_at_script):
    try:
        if stop_at_script:
            return getopt.getopt(args, SHORT, LONG)
        return getopt.gnu_getopt(args, SHORT, LONG)
    except getopt.GetoptError as e:
        rpc.getopt_failed(e)


def directives(script):
    """#SBATCH lines up to the first command line (sbatch stops there)."""
    args = []
    for line in script.splitlines()[1:]:
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            break
        if stripped.startswith("#SBATCH"):
            try:
                args += shlex.split(stripped[len("#SBATCH") :], comments=True)
            except ValueError:
                fail(f"Invalid #SBATCH line: {line}")
    return args


def read_script(rest, wrap):
    if wrap is not None:
        if rest:
            fail("script arguments not permitted with --wrap option")
        return f"#!/bin/sh\n# This script was created by sbatch --wrap.\n\n{wrap}\n", None, [], "wrap"
    if rest:
        path = rest[0]
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as f:
                body = f.read()
        except OSError:
            fail(f"Unable to open file {path}")
        name, command, argv = os.path.basename(path), os.path.abspath(path), rest[1:]
    else:
        body, name, command, argv = sys.stdin.read(), "sbatch", None, []
    if not body:
        fail("Batch script is empty!")
    if not body.strip():
        fail("Batch script contains only whitespace!")
    if not body.startswith("#!"):
        rpc.error("This does not look like a batch script.  The first")
        rpc.error("line must start with #! followed by the path to an interpreter.")
        fail("For instance: #!/bin/sh")
    if "\r\n" in body:
        fail("Batch script contains DOS line breaks (\\r\\n)")
    return body, command, argv, name


def build_env(export):
    items = [x for x in (export or "ALL").split(",") if x]
    keep_all = any(x.upper() == "ALL" for x in items)
    env = dict(os.environ) if keep_all else {k: v for k, v in os.environ.items() if k.startswith("SLURM_")}
    for item in items:
        if item.upper() in ("ALL", "NONE"):
            continue
        key, eq, value = item.partition("=")
        if eq:
            env[key] = value
        elif key in os.environ:
            env[key] = os.environ[key]
    umask = os.umask(0)
    os.umask(umask)
    env.update({"SLURM_SUBMIT_DIR": os.getcwd(), "SLURM_SUBMIT_HOST": socket.gethostname(),
                "SLURM_UMASK": f"{umask:04o}"})
    return env


def apply(opts, values):
    for key, value in opts:
        values[ALIASES.get(key, key.lstrip("-"))] = value


def job_spec(values, body, command, argv, default_name):
    spec = {"script": body, "argv": argv, "command": command, "submit_host": socket.gethostname(),
            "sid": os.getsid(0), "name": values.get("job-name") or os.environ.get("SBATCH_JOB_NAME") or default_name}
    work_dir = os.path.abspath(values.get("chdir") or os.getcwd())
    spec["work_dir"] = work_dir
    for opt, key in (("output", "std_out"), ("error", "std_err"), ("input", "std_in"), ("partition", "partition"),
                     ("account", "account"), ("comment", "comment"), ("open-mode", "open_mode")):
        if values.get(opt):
            spec[key] = values[opt]
    try:
        if "nodelist" in values:
            spec["req_nodes"] = hostlist.expand(values["nodelist"])
        if "exclude" in values:
            spec["exc_nodes"] = hostlist.expand(values["exclude"])
    except ValueError:
        fail("Invalid node name specified")
    if "nodes" in values:
        lo, _, hi = values["nodes"].partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()) or int(lo) < 1:
            fail(f"invalid number of nodes (-N {values['nodes']})")
        spec["num_nodes"], spec["max_nodes"] = int(lo), int(hi or lo)
    for opt, key in (("ntasks", "ntasks"), ("cpus-per-task", "cpus_per_task")):
        if opt in values:
            if not values[opt].isdigit() or int(values[opt]) < 1:
                fail(f"Invalid numeric value \"{values[opt]}\" for --{opt}.")
            spec[key] = int(values[opt])
    if "time" in values:
        try:
            spec["time_limit"] = timefmt.parse_time_limit(values["time"])
        except ValueError:
            fail("Invalid --time specification")
    if "begin" in values:
        try:
            spec["begin_time"] = timefmt.parse_begin(values["begin"], time.time())
        except ValueError:
            fail(f"Invalid time specification {values['begin']}")
    spec["exclusive"] = "exclusive" in values
    spec["env"] = build_env(values.get("export"))
    fake_pending = config.env_float("FAKE_PENDING_SECONDS", -1.0)
    if fake_pending >= 0:
        spec["fake_pending_s"] = fake_pending
    fake_fail = os.environ.get("FAKE_FAIL_PENDING", "")
    if fake_fail and fake_fail != "0":
        spec["fake_fail_pending"] = "JobLaunchFailure" if fake_fail == "1" else fake_fail
    fake_limit = config.env_float("FAKE_TIME_LIMIT_SECONDS", -1.0)
    if fake_limit >= 0:
        spec["fake_limit_s"] = fake_limit
    return spec


def wait_for(job_id):
    """--wait: poll until the job ends; exit with its exit code like sbatch does."""
    while True:
        jobs = {j["id"]: j for j in rpc.request("jobs")["jobs"]}
        job = jobs.get(job_id)
        if job is None:
            return 0
        if job["state"] not in ("PENDING", "RUNNING") and not job["completing"]:
            return job["exit_status"] or (0 if job["state"] == "COMPLETED" else 1)
        time.sleep(0.2)


def main():
    opts, rest = parse(sys.argv[1:], stop_at_script=True)
    values = {}
    apply(opts, values)
    if "help" in values:
        sys.stdout.write(USAGE)
        return 0
    if "version" in values:
        print(f"slurm {config.VERSION}")
        return 0
    body, command, argv, default_name = read_script(rest, values.get("wrap"))
    script_opts, _ = parse(directives(body), stop_at_script=False)
    merged = {}
    apply(script_opts, merged)
    merged.update(values)  # the command line wins over #SBATCH lines
    spec = job_spec(merged, body, command, argv, default_name)
    try:
        reply = rpc.request("submit", job=spec)
    except rpc.ControllerDown:
        rpc.controller_down("sbatch: error: Batch job submission failed")
    if "error" in reply:
        fail(f"Batch job submission failed: {reply['error']}")
    job_id = reply["job_id"]
    if "quiet" not in merged:
        print(job_id if "parsable" in merged else f"Submitted batch job {job_id}", flush=True)
    if "wait" in merged:
        return wait_for(job_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
