"""scontrol: show job / node / partition / hostnames / hostlist, ping, version (22.05 layouts)."""
import getopt
import os
import platform
import sys

from . import config, hostlist, jobview, rpc, states, timefmt


def _null(value):
    return "(null)" if value in (None, "", []) else value


def job_record(job, now):
    """slurm_sprint_job_info (src/api/job_info.c, 22.05), in order; one field group per line."""
    limit = jobview.limit_seconds(job)
    running = job["state"] == "RUNNING" and not job["completing"]
    if job["state"] == "PENDING":
        end = None
    elif running:
        end = None if limit is None else job["start_time"] + limit
    else:
        end = job.get("end_time")
    pending = job["state"] == "PENDING"
    if pending and job.get("max_nodes"):
        num_nodes = f"{job['num_nodes']}-{job['max_nodes']}"
    else:
        num_nodes = str(len(job["nodes"]) or job["num_nodes"])
    cpus = job["ntasks"] * job["cpus_per_task"]
    node_count = len(job["nodes"]) or job["num_nodes"]
    reason = "_".join(jobview.reason(job).split())
    lines = [
        f"JobId={job['id']} JobName={job['name']}",
        f"UserId={job['user']}({job['uid']}) GroupId={job['group']}({job['gid']}) MCS_label=N/A",
        f"Priority={job['priority']} Nice=0 Account={_null(job.get('account'))} QOS={job['qos']}",
        f"JobState={states.state_string(job)} Reason={reason} Dependency=(null)",
        f"Requeue=1 Restarts=0 BatchFlag=1 Reboot=0 ExitCode={job['exit_status']}:{job['exit_signal']}",
        f"RunTime={timefmt.secs2time_str(jobview.run_seconds(job, now))} "
        f"TimeLimit={timefmt.limit_str(job.get('time_limit'), job.get('fake_limit_s'))} TimeMin=N/A",
        f"SubmitTime={timefmt.timestamp(job['submit_time'])} EligibleTime={timefmt.timestamp(job['eligible_time'])}",
        f"AccrueTime={timefmt.timestamp(job['accrue_time'])}",
        f"StartTime={timefmt.timestamp(job['start_time'])} EndTime={timefmt.timestamp(end)} Deadline=N/A",
        f"SuspendTime=None SecsPreSuspend=0 LastSchedEval={timefmt.timestamp(job['last_sched_eval'])} Scheduler=Main",
        f"Partition={job['partition']} AllocNode:Sid={job['alloc_node']}:{job['alloc_sid']}",
        f"ReqNodeList={_null(hostlist.compress(job['req_nodes']))} "
        f"ExcNodeList={_null(hostlist.compress(job['exc_nodes']))}",
        f"NodeList={jobview.nodes(job)}",
    ]
    if job.get("batch_host"):
        lines.append(f"BatchHost={job['batch_host']}")
    lines += [
        f"NumNodes={num_nodes} NumCPUs={cpus} NumTasks={job['ntasks']} CPUs/Task={job['cpus_per_task']} "
        "ReqB:S:C:T=0:0:*:*",
        f"TRES=cpu={cpus},node={node_count},billing={cpus}",
        "Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=*",
        f"MinCPUsNode={job['cpus_per_task']} MinMemoryNode=0 MinTmpDiskNode=0",
        "Features=(null) DelayBoot=00:00:00",
        f"OverSubscribe={'NO' if job['exclusive'] else 'OK'} Contiguous=0 Licenses=(null) Network=(null)",
        f"Command={_null(job.get('command'))}",
        f"WorkDir={job['work_dir']}",
    ]
    if job.get("comment"):
        lines.append(f"Comment={job['comment']} ")
    lines += [
        f"StdErr={jobview.stderr_path(job)}",
        f"StdIn={job.get('std_in') or '/dev/null'}",
        f"StdOut={jobview.stdout_path(job)}",
        "Power=",
    ]
    return lines


def node_record(node, now):
    """slurm_sprint_node_table (src/api/node_info.c), trimmed to what a fake node has."""
    state = "IDLE"
    if not node["up"]:
        state = "DOWN*" if node.get("ever") else "UNKNOWN*"
    elif node["alloc_cpus"] >= node["cpus"]:
        state = "ALLOCATED"
    elif node["alloc_cpus"]:
        state = "MIXED"
    boot = timefmt.timestamp(node.get("boot_time"))
    return [
        f"NodeName={node['name']} Arch={platform.machine()} CoresPerSocket=1 ",
        f"CPUAlloc={node['alloc_cpus']} CPUEfctv={node['cpus']} CPUTot={node['cpus']} CPULoad=0.00",
        "AvailableFeatures=(null)",
        "ActiveFeatures=(null)",
        "Gres=(null)",
        f"NodeAddr={node['name']} NodeHostName={node['name']} Version={config.VERSION}",
        f"OS={platform.system()} {platform.release()} {platform.version()} ",
        f"RealMemory=1 AllocMem=0 FreeMem=N/A Sockets={node['cpus']} Boards=1",
        f"State={state} ThreadsPerCore=1 TmpDisk=0 Weight=1 Owner=N/A MCS_label=N/A",
        f"Partitions={config.PARTITION} ",
        f"BootTime={boot} SlurmdStartTime={timefmt.timestamp(node.get('reg_time'))}",
        f"LastBusyTime={boot}",
        f"CfgTRES=cpu={node['cpus']},mem=1M,billing={node['cpus']}",
        f"AllocTRES={'cpu=' + str(node['alloc_cpus']) if node['alloc_cpus'] else ''}",
        "CapWatts=n/a",
        "CurrentWatts=0 AveWatts=0",
        "ExtSensorsJoules=n/s ExtSensorsWatts=0 ExtSensorsTemp=n/s",
    ]


def emit(records, one_liner):
    for fields in records:
        if one_liner:
            sys.stdout.write(" ".join(fields) + " \n")
        else:
            sys.stdout.write("\n   ".join(fields) + "\n   \n\n")


def show_job(arg, one_liner):
    if arg is not None and not all(c.isdigit() or c in "_+" for c in arg):
        sys.stderr.write("scontrol_print_job error: Invalid job id specified\n")
        return 1
    try:
        reply = rpc.request("jobs")
    except rpc.ControllerDown:
        rpc.controller_down("slurm_load_jobs error")
    jobs = sorted(reply["jobs"], key=lambda j: j["id"])
    if arg is not None:
        wanted = int(arg.split("_")[0].split("+")[0])
        jobs = [j for j in jobs if j["id"] == wanted]
        if not jobs:
            sys.stderr.write("slurm_load_jobs error: Invalid job id specified\n")
            return 1
    if not jobs:
        print("No jobs in the system")
        return 0
    emit([job_record(j, reply["now"]) for j in jobs], one_liner)
    return 0


def show_node(arg, one_liner):
    try:
        reply = rpc.request("nodes")
    except rpc.ControllerDown:
        rpc.controller_down("slurm_load_node error")
    nodes = reply["nodes"]
    if arg is not None:
        wanted = set(hostlist.expand(arg))
        nodes = [n for n in nodes if n["name"] in wanted]
        if not nodes:
            print(f"Node {arg} not found")
            return 1
    emit([node_record(n, reply["now"]) for n in nodes], one_liner)
    return 0


def show_partition(one_liner):
    try:
        nodes = rpc.request("nodes")["nodes"]
    except rpc.ControllerDown:
        rpc.controller_down("slurm_load_partitions error")
    names = hostlist.compress([n["name"] for n in nodes])
    cpus = sum(n["cpus"] for n in nodes)
    emit([[
        f"PartitionName={config.PARTITION}",
        "AllowGroups=ALL AllowAccounts=ALL AllowQos=ALL",
        "AllocNodes=ALL Default=YES QoS=N/A",
        "DefaultTime=NONE DisableRootJobs=NO ExclusiveUser=NO GraceTime=0 Hidden=NO",
        "MaxNodes=UNLIMITED MaxTime=UNLIMITED MinNodes=0 LLN=NO MaxCPUsPerNode=UNLIMITED",
        f"Nodes={names}",
        "PriorityJobFactor=1 PriorityTier=1 RootOnly=NO ReqResv=NO OverSubscribe=NO",
        "OverTimeLimit=NONE PreemptMode=OFF",
        f"State=UP TotalCPUs={cpus} TotalNodes={len(nodes)} SelectTypeParameters=NONE",
        "JobDefaults=(null)",
        "DefMemPerNode=UNLIMITED MaxMemPerNode=UNLIMITED",
        f"TRES=cpu={cpus},mem={len(nodes)}M,node={len(nodes)},billing={cpus}",
    ]], one_liner)
    return 0


def main():
    try:
        opts, args = getopt.gnu_getopt(sys.argv[1:], "adoQvV", ["all", "details", "oneliner", "quiet", "verbose",
                                                                  "version"])
    except getopt.GetoptError as e:
        rpc.getopt_failed(e)
    one_liner = any(k in ("-o", "--oneliner") for k, _ in opts) or bool(os.environ.get("SCONTROL_ONELINER"))
    if any(k in ("-V", "--version") for k, _ in opts) or (args and args[0].lower() == "version"):
        print(f"slurm {config.VERSION}")
        return 0
    if not args:
        sys.stderr.write("scontrol: interactive mode is not supported by the fake\n")
        return 1
    command = args[0].lower()
    if command == "ping":
        try:
            rpc.request("ping")
            print(f"Slurmctld(primary) at {config.controller_host()} is UP")
            return 0
        except rpc.ControllerDown:
            print(f"Slurmctld(primary) at {config.controller_host()} is DOWN")
            return 1
    if command != "show" or len(args) < 2:
        sys.stderr.write(f"invalid keyword: {args[0]}\n")
        return 1
    entity = args[1].lower()
    arg = args[2] if len(args) > 2 else None
    if entity in ("job", "jobs", "jobid"):
        return show_job(arg, one_liner)
    if entity in ("node", "nodes"):
        return show_node(arg, one_liner)
    if entity in ("partition", "partitions"):
        return show_partition(one_liner)
    if entity == "hostnames":
        names = hostlist.expand(arg or os.environ.get("SLURM_JOB_NODELIST", ""))
        sys.stdout.write("".join(n + "\n" for n in names))
        return 0
    if entity in ("hostlist", "hostlistsorted"):
        print(hostlist.compress(hostlist.expand(arg or "")))
        return 0
    sys.stderr.write(f"invalid entity:{args[1]} for keyword:show \n")
    return 1


if __name__ == "__main__":
    sys.exit(main())
