"""A Spark Connect server on 127.0.0.1, started as its own process (as a cluster's would run), for tests and
benchmarks. Needs Java 17 and pyspark (the ``spark`` extra); nothing leaves the machine."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


def _die_with_parent() -> None:
    """In the child before exec: new session, and SIGTERM when the process that started it dies (Linux), so no
    JVM outlives a killed test run or benchmark (spark-submit and spark-class exec java in this process)."""
    import ctypes

    os.setsid()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def spark_connect_server(folder: Path, master: str = "local[2]", timeout: float = 180.0):
    """Start a Spark Connect server bound to loopback, yield its ``sc://`` URL, stop it (and its JVM) after."""
    import pyspark

    home = Path(pyspark.__file__).parent
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    conf = {
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.sql.warehouse.dir": str(folder / "warehouse"),
        "spark.sql.catalogImplementation": "in-memory",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": "4",
        "spark.driver.memory": "2g",
    }
    argv = [str(home / "bin" / "spark-submit"), "--class", SERVER_CLASS, "--master", master]
    for k, v in conf.items():
        argv += ["--conf", f"{k}={v}"]
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
    }
    log = open(folder / "spark-connect.log", "wb")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, preexec_fn=_die_with_parent)
    try:
        _wait_for_port(port, [proc], timeout, folder / "spark-connect.log")
        spark_connect_server.pid = proc.pid  # type: ignore[attr-defined]  # for process_tree_cpu
        yield f"sc://127.0.0.1:{port}"
    finally:
        _stop([proc])
        log.close()


@contextlib.contextmanager
def standalone_cluster(
    folder: Path, workers: int = 2, cores: int = 1, memory: str = "4g", timeout: float = 120.0
):
    """A Spark standalone master and ``workers`` workers on 127.0.0.1, each its own process; yields the master's
    ``spark://`` URL (give it to :func:`spark_connect_server` as ``master``)."""
    import pyspark

    home = Path(pyspark.__file__).parent
    folder.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_WORKER_DIR": str(folder),
    }
    port = free_port()
    cls = str(home / "bin" / "spark-class")
    argvs = [
        [
            cls,
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--webui-port",
            str(free_port()),
        ]
    ]
    master = f"spark://127.0.0.1:{port}"
    procs, logs = [], []
    try:
        for i, argv in enumerate(argvs):
            logs.append(open(folder / f"master-{i}.log", "wb"))
            procs.append(
                subprocess.Popen(
                    argv, stdout=logs[-1], stderr=subprocess.STDOUT, env=env, preexec_fn=_die_with_parent
                )
            )
        _wait_for_port(port, procs, timeout)
        for i in range(workers):
            argv = [
                cls,
                "org.apache.spark.deploy.worker.Worker",
                master,
                "--host",
                "127.0.0.1",
                "--cores",
                str(cores),
                "--memory",
                memory,
                "--webui-port",
                str(free_port()),
                "--work-dir",
                str(folder / f"worker-{i}"),
            ]
            logs.append(open(folder / f"worker-{i}.log", "wb"))
            procs.append(
                subprocess.Popen(
                    argv, stdout=logs[-1], stderr=subprocess.STDOUT, env=env, preexec_fn=_die_with_parent
                )
            )
        deadline = time.monotonic() + timeout
        while (
            sum(
                "Successfully registered with master"
                in (folder / f"worker-{i}.log").read_text(errors="ignore")
                for i in range(workers)
            )
            < workers
        ):
            if time.monotonic() > deadline:
                raise RuntimeError("Spark workers did not register with the master")
            time.sleep(0.5)
        standalone_cluster.pids = [p.pid for p in procs]  # type: ignore[attr-defined]  # for process_tree_cpu
        yield master
    finally:
        _stop(procs)
        for log in logs:
            log.close()


def _stop(procs: list[subprocess.Popen]) -> None:
    """SIGTERM to each process group (the JVM and what it started), SIGKILL after 30 s."""
    for proc in reversed(procs):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait_for_port(port: int, procs, timeout: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError(f"a Spark process exited while starting; see {log or 'its log'}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")
        time.sleep(0.5)


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its children (its JVM), from /proc."""
    total, ticks = 0.0, os.sysconf("SC_CLK_TCK")
    pids = [pid]
    while pids:
        p = pids.pop()
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(
                f"/proc/{p}/task"
            ).iterdir():  # a JVM starts its children (executors) from any thread
                pids += [int(c) for c in (task / "children").read_text().split()]
    return total
