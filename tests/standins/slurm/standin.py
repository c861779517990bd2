"""Stand-ins for SLURM's commands, enough for snakemake-executor-plugin-slurm on one machine.

    python standin.py <sbatch|sacct|squeue|scancel|srun|sshare|sinfo> [arguments...]

tests/test_slurm_profile.py puts one wrapper per command on PATH. State lives in
$SLURM_STANDIN_DIR: ``submissions.jsonl`` records every sbatch call (its options and the
rule named in its comment), ``jobs/<id>.json`` each job's name and final state.

- sbatch: records the call, starts its ``--wrap`` command here in the background (SLURM_JOB_ID
  set, output to ``--output``) and prints the job id (``--parsable``).
- sacct and squeue: ``<id>|<state>`` for the jobs of ``--name``.
- scancel: marks jobs CANCELLED. srun: runs its command after its options.
- sshare: the accounts in $SLURM_STANDIN_ACCOUNTS. sinfo: one partition, "cpu".
"""

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

STATE = Path(os.environ.get("SLURM_STANDIN_DIR", ".slurm-standin"))


def options(argv: list[str]) -> dict[str, str]:
    """``--key value``, ``--key=value`` and ``-k value`` as {key: value}; flags map to ""."""
    out, i = {}, 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--") and "=" in arg:
            key, value = arg[2:].split("=", 1)
        elif arg.startswith("-"):
            key = arg.lstrip("-")
            takes_value = i + 1 < len(argv) and not argv[i + 1].startswith("-")
            value = argv[i + 1] if takes_value and key not in ("parsable", "requeue") else ""
            i += bool(value)
        else:
            key, value = f"arg{i}", arg
        out[key] = value
        i += 1
    return out


def next_id(jobs: Path) -> str:
    """A new job id: the first free number, claimed atomically (sbatch calls may overlap)."""
    n = len(list(jobs.iterdir())) + 1
    while True:
        try:
            os.close(os.open(jobs / f"{n}.json", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            return str(n)
        except FileExistsError:
            n += 1


def sbatch(argv: list[str]) -> int:
    opts = options(argv)
    jobs = STATE / "jobs"
    jobs.mkdir(parents=True, exist_ok=True)
    job_id = next_id(jobs)
    comment = opts.get("comment", "")
    rule = comment.removeprefix("rule_").split("_wildcards_")[0]
    record = {"id": job_id, "rule": rule, "options": opts, "argv": argv}
    with (STATE / "submissions.jsonl").open("a") as f:
        f.write(json.dumps(record) + "\n")
    job = {"name": opts["job-name"], "state": "RUNNING", "options": opts}
    (jobs / f"{job_id}.json").write_text(json.dumps(job))
    # the job runs in the background, as on a cluster; sacct sees it RUNNING until it ends
    subprocess.Popen(
        [sys.executable, __file__, "_run", job_id],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    print(job_id)
    return 0


def run_job(job_id: str) -> int:
    """Run a submitted job's ``--wrap`` command and record how it ended."""
    path = STATE / "jobs" / f"{job_id}.json"
    job = json.loads(path.read_text())
    opts = job["options"]
    log = Path(opts.get("output", f"slurm-{job_id}.log").replace("%j", job_id))
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SLURM_JOB_ID": job_id}
    if opts.get("gpus"):
        env["SLURM_GPUS"] = opts["gpus"]
    with log.open("w") as out:
        code = subprocess.run(
            ["bash", "-c", opts["wrap"]], cwd=opts.get("D", "."), env=env, stdout=out, stderr=out
        ).returncode
    job = json.loads(path.read_text())
    if job["state"] == "RUNNING":  # not cancelled meanwhile
        job["state"] = "COMPLETED" if code == 0 else "FAILED"
        path.write_text(json.dumps(job))
    return code


def states(name: str | None) -> list[tuple[str, str]]:
    found = []
    for path in sorted((STATE / "jobs").glob("*.json"), key=lambda p: int(p.stem)):
        text = path.read_text()
        if not text:  # claimed by an sbatch call still writing it
            continue
        job = json.loads(text)
        if name is None or job["name"] == name:
            found.append((path.stem, job["state"]))
    return found


def main() -> int:
    command, argv = sys.argv[1], sys.argv[2:]
    if command == "sbatch":
        return sbatch(argv)
    if command == "_run":
        return run_job(argv[0])
    if command in ("sacct", "squeue"):
        for job_id, state in states(options(argv).get("name")):
            print(f"{job_id}|{state}")
        return 0
    if command == "scancel":
        for job_id in argv:
            path = STATE / "jobs" / f"{job_id}.json"
            if path.is_file():
                job = json.loads(path.read_text())
                path.write_text(json.dumps({**job, "state": "CANCELLED"}))
        return 0
    if command == "srun":
        rest = list(argv)
        while rest and rest[0].startswith("-"):
            rest.pop(0)
        return subprocess.run(shlex.join(rest), shell=True).returncode
    if command == "sshare":
        print("\n".join(os.environ.get("SLURM_STANDIN_ACCOUNTS", "my_account").split(",")))
        return 0
    if command == "sinfo":
        print("PARTITION\ncpu*")
        return 0
    print(f"standin.py: unknown command {command}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
