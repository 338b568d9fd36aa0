/**
 * Stopping and restarting a test node's buildkitd, for tests of a node that fails mid-build. The
 * daemon is restarted exactly as scripts/testenv/buildkit.sh started it (same argv, PATH and
 * network namespace, `setsid`, its log and pid file), so `scripts/test-env.sh status` and `down`
 * find it again. Only under the integration lock: other tests use the same node.
 */
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { buildctlArgv } from "./buildx";
import { TestEnv, TestNode } from "./testenv";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

/** True once the node answers `buildctl debug workers` over mTLS. */
export function nodeAnswers(node: TestNode): boolean {
    try {
        const [buildctl, ...args] = buildctlArgv(node.buildkitEndpoint, node.tls, "debug", "workers");
        execFileSync(buildctl, args, { stdio: "ignore", timeout: 10_000 });
        return true;
    } catch {
        return false;
    }
}

export interface StoppedDaemon {
    /** Starts the daemon again (once; later calls do nothing) and waits until it answers. */
    restart(): Promise<void>;
}

/** Kills the node's buildkitd mid-whatever (as a crashed node) and returns how to start it again. */
export async function stopNodeBuildkitd(env: TestEnv, node: TestNode): Promise<StoppedDaemon> {
    const runDir = path.join(env.dir ?? "/var/lib/pulumi-buildx-testenv", "run");
    const pidFile = path.join(runDir, "pids", `buildkitd-${node.name}.pid`);
    const pid = Number(fs.readFileSync(pidFile, "utf8").trim());
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    const daemonPath = fs
        .readFileSync(`/proc/${pid}/environ`, "utf8")
        .split("\0")
        .find((e) => e.startsWith("PATH="));
    // KILL, as a node that dies: on TERM buildkitd would let running builds finish first.
    process.kill(pid, "SIGKILL");
    for (let i = 0; i < 300 && alive(pid); i++) await sleep(100);
    let restarted = false;
    return {
        async restart() {
            if (restarted) return;
            restarted = true;
            const log = fs.openSync(path.join(runDir, "logs", `buildkitd-${node.name}.log`), "a");
            // Not detached: setsid then needs no fork, and the pid is the daemon's own (as start_daemon does it).
            const child = spawn("setsid", ["nsenter", `--net=/var/run/netns/${node.netns}`, "env", daemonPath ?? `PATH=${process.env.PATH}`, ...argv], {
                stdio: ["ignore", log, log],
            });
            child.unref();
            fs.closeSync(log);
            fs.writeFileSync(pidFile, `${child.pid}\n`);
            for (let i = 0; i < 120 && !nodeAnswers(node); i++) await sleep(500);
            if (!nodeAnswers(node)) throw new Error(`${node.name}'s buildkitd did not come back; see ${runDir}/logs/buildkitd-${node.name}.log`);
        },
    };
}
