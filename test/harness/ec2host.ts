/**
 * The EC2 stand-in hosts of the test environment (`scripts/testenv/ec2hosts.sh`), and what the
 * tests play on them in place of the VM itself:
 *
 * - `writeEc2HostFile` stands in for user-data writing files under `/etc/buildkit` (the CA and the
 *   server certificate);
 * - `startBuildkitdOnEc2Host` stands in for the VM's `buildkitd.path` + `buildkitd.service` units:
 *   it waits for `/etc/buildkit/tls/key.pem` (which the component's readiness check writes over
 *   SSH with sudo), then runs buildkitd on the host's `/run/buildkit/buildkitd.sock` and on
 *   `tcp://0.0.0.0:1234` with mTLS;
 * - `resetEc2Host` gives the host an empty `/etc/buildkit` and `/run/buildkit` again.
 *
 * A host shares this machine's file system except `/etc/buildkit` and `/run/buildkit`: its sshd
 * runs in a private mount namespace where those are bind mounts of `host.etcBuildkit` and
 * `host.runBuildkit`. The buildkitd runs in that mount namespace and in the host's network
 * namespace (`nsenter -t <sshdPid> --net --mount`).
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { runProcess, RunResult } from "./process";
import { TestEc2Host, TestEnv } from "./testenv";

export { TestEc2Host } from "./testenv";

/** The EC2 stand-in hosts of env.json; throws (naming the fix) if the environment has none. */
export function ec2HostsOf(env: TestEnv): TestEc2Host[] {
    const hosts = env.ec2Hosts ?? [];
    if (hosts.length < 2 || !env.ec2User) {
        throw new Error(
            `test environment part missing: env.json lists ${hosts.length} EC2 stand-in hosts (ec2Hosts) and ec2User=${env.ec2User}; run \`scripts/test-env.sh up\` again`,
        );
    }
    return hosts;
}

/** The key file whose appearance starts buildkitd (the VM's `buildkitd.path` unit). */
export const EC2_TLS_KEY = "/etc/buildkit/tls/key.pem";
/** buildkitd's unix socket on the host (inside its private /run/buildkit). */
export const EC2_BUILDKITD_SOCKET = "/run/buildkit/buildkitd.sock";

export interface Ec2BuildkitdOptions {
    /** Log file on this machine (truncated on start). Default: `host.buildkitd.log`. */
    logFile?: string;
    /** buildkitd's state dir. Default: `host.buildkitd.root` (kept across starts, like a VM's disk). */
    root?: string;
    /** More buildkitd arguments, after the standard ones. */
    extraArgs?: string[];
    /** How often the stand-in path unit looks for the key, in seconds. Default 0.2. */
    pollSeconds?: number;
}

export interface Ec2Buildkitd {
    /** The process (and process group) id: `nsenter`, then `sh` waiting for the key, then buildkitd. */
    readonly pid: number;
    readonly logFile: string;
    /** False once the process has exited (buildkitd failed, or `stop()`). */
    running(): boolean;
    /**
     * Kills the process group (TERM, KILL after 20 s) and waits until it is gone, then removes the
     * contents of the host's /run/buildkit and its /etc/buildkit/tls. Safe to call twice.
     */
    stop(): Promise<void>;
    /** The log so far (the wait for the key, then buildkitd's output). */
    log(): string;
}

function checkHostAlive(host: TestEc2Host): void {
    let exe = "";
    let netns = "";
    try {
        exe = fs.readlinkSync(`/proc/${host.sshdPid}/exe`);
        netns = fs.readlinkSync(`/proc/${host.sshdPid}/ns/net`);
    } catch {
        /* reported below */
    }
    if (!exe.endsWith("/sshd")) {
        throw new Error(`EC2 stand-in ${host.name}: its sshd (pid ${host.sshdPid} in env.json) is not running; run \`scripts/test-env.sh up\``);
    }
    const want = `net:[${fs.statSync(`/var/run/netns/${host.netns}`).ino}]`;
    if (netns !== want) {
        throw new Error(`EC2 stand-in ${host.name}: pid ${host.sshdPid} is not in netns ${host.netns} (${netns} != ${want}); run \`scripts/test-env.sh up\``);
    }
}

function groupAlive(pgid: number): boolean {
    try {
        process.kill(-pgid, 0);
        return true;
    } catch (err) {
        return (err as NodeJS.ErrnoException).code === "EPERM";
    }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where the running buildkitd's process group id is kept (for a start after a killed test run). */
const pidFileOf = (host: TestEc2Host) => path.join(host.runDir, "buildkitd.pgid");

/**
 * A buildkitd that an earlier, killed test process left running on the host (its pid file names
 * a process in the host's netns whose command line mentions buildkitd): killed, synchronously.
 */
function killLeftover(host: TestEc2Host): void {
    let pgid: number;
    try {
        pgid = Number(fs.readFileSync(pidFileOf(host), "utf8").trim());
    } catch {
        return;
    }
    const ours = (() => {
        try {
            const want = `net:[${fs.statSync(`/var/run/netns/${host.netns}`).ino}]`;
            return pgid > 1 && fs.readlinkSync(`/proc/${pgid}/ns/net`) === want && fs.readFileSync(`/proc/${pgid}/cmdline`, "utf8").includes("buildkitd");
        } catch {
            return false;
        }
    })();
    if (ours && groupAlive(pgid)) {
        process.kill(-pgid, "SIGKILL");
        for (let i = 0; i < 100 && groupAlive(pgid); i++) spawnSync("sleep", ["0.1"]);
    }
    fs.rmSync(pidFileOf(host), { force: true });
}

/** Removes DIR's contents, keeps DIR (a bind-mount source: it must stay the same directory). */
function emptyDir(dir: string): void {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir)) {
        fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
    }
}

/**
 * Plays the VM's `buildkitd.path` + `buildkitd.service`: first kills a buildkitd that a killed
 * test run left on the host, then starts, detached in a process group of
 * its own, a process in the host's network and mount namespaces that waits until
 * `/etc/buildkit/tls/key.pem` exists and is not empty, then execs
 * `buildkitd --addr unix:///run/buildkit/buildkitd.sock --addr tcp://0.0.0.0:1234
 * --tlscacert /etc/buildkit/tls/ca.pem --tlscert /etc/buildkit/tls/cert.pem
 * --tlskey /etc/buildkit/tls/key.pem`, with the environment's buildkitd config (the test
 * registries' CA), its own root dir and `--otel-socket-path /run/buildkit/otel-grpc.sock`.
 * The CA and certificate must be there when the key appears (`writeEc2HostFile`).
 */
export function startBuildkitdOnEc2Host(host: TestEc2Host, opts: Ec2BuildkitdOptions = {}): Ec2Buildkitd {
    checkHostAlive(host);
    killLeftover(host);
    const logFile = opts.logFile ?? host.buildkitd.log;
    const root = opts.root ?? host.buildkitd.root;
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    fs.mkdirSync(root, { recursive: true });
    const buildkitd = [
        "env",
        `PATH=${host.buildkitd.path}`,
        "buildkitd",
        "--config",
        host.buildkitd.config,
        "--root",
        root,
        "--otel-socket-path",
        "/run/buildkit/otel-grpc.sock",
        "--addr",
        `unix://${EC2_BUILDKITD_SOCKET}`,
        "--addr",
        `tcp://0.0.0.0:${host.buildkitd.port}`,
        "--tlscacert",
        "/etc/buildkit/tls/ca.pem",
        "--tlscert",
        "/etc/buildkit/tls/cert.pem",
        "--tlskey",
        EC2_TLS_KEY,
        ...(opts.extraArgs ?? []),
    ];
    const waitThenExec = [
        `key=${EC2_TLS_KEY}`,
        `echo "[ec2host ${host.name}] waiting for $key"`,
        `while [ ! -s "$key" ]; do sleep ${opts.pollSeconds ?? 0.2}; done`,
        `echo "[ec2host ${host.name}] $key is there; starting buildkitd"`,
        `exec "$@"`,
    ].join("\n");
    const fd = fs.openSync(logFile, "w");
    let exited = false;
    let exitWaiters: Array<() => void> = [];
    let pid: number;
    try {
        const child = spawn("nsenter", ["-t", String(host.sshdPid), "--net", "--mount", "--", "/bin/sh", "-c", waitThenExec, "sh", ...buildkitd], {
            detached: true,
            stdio: ["ignore", fd, fd],
            env: { PATH: host.buildkitd.path, HOME: process.env.HOME ?? "/root" },
        });
        if (child.pid === undefined) {
            throw new Error(`EC2 stand-in ${host.name}: could not spawn nsenter`);
        }
        pid = child.pid;
        fs.writeFileSync(pidFileOf(host), `${pid}\n`);
        child.on("exit", () => {
            exited = true;
            for (const w of exitWaiters) w();
            exitWaiters = [];
        });
        child.on("error", () => {
            exited = true;
        });
        child.unref();
    } finally {
        fs.closeSync(fd);
    }
    const waitExit = (ms: number) => (exited ? Promise.resolve() : Promise.race([new Promise<void>((r) => exitWaiters.push(r)), sleep(ms)]));
    let stopped: Promise<void> | undefined;
    const stop = async () => {
        if (groupAlive(pid)) {
            try {
                process.kill(-pid, "SIGTERM");
            } catch {
                /* gone already */
            }
            await waitExit(20_000);
            for (let i = 0; i < 200 && groupAlive(pid); i++) await sleep(100);
            if (groupAlive(pid)) {
                try {
                    process.kill(-pid, "SIGKILL");
                } catch {
                    /* gone already */
                }
                await waitExit(5_000);
                for (let i = 0; i < 50 && groupAlive(pid); i++) await sleep(100);
            }
            if (groupAlive(pid)) {
                throw new Error(`EC2 stand-in ${host.name}: buildkitd process group ${pid} did not exit`);
            }
        }
        try {
            if (fs.readFileSync(pidFileOf(host), "utf8").trim() === String(pid)) fs.rmSync(pidFileOf(host), { force: true });
        } catch {
            /* no pid file */
        }
        emptyDir(host.runBuildkit);
        fs.rmSync(path.join(host.etcBuildkit, "tls"), { recursive: true, force: true });
    };
    return {
        pid,
        logFile,
        running: () => !exited,
        stop: () => (stopped ??= stop()),
        log: () => {
            try {
                return fs.readFileSync(logFile, "utf8");
            } catch {
                return "";
            }
        },
    };
}

/**
 * Writes `contents` to `/etc/buildkit/<rel>` on the host (in place of user-data), as root with
 * `mode` (default 0644), creating parent directories (0755). Atomic (temporary file + rename).
 * Returns the file's path on this machine.
 */
export function writeEc2HostFile(host: TestEc2Host, rel: string, contents: string | Buffer, mode = 0o644): string {
    const file = path.resolve(host.etcBuildkit, rel);
    if (path.isAbsolute(rel) || !file.startsWith(host.etcBuildkit + path.sep)) {
        throw new Error(`writeEc2HostFile: ${JSON.stringify(rel)} is not a relative path under /etc/buildkit`);
    }
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, contents, { mode });
    fs.chmodSync(tmp, mode); // whatever the umask
    fs.renameSync(tmp, file);
    return file;
}

/** Empties the host's /etc/buildkit and /run/buildkit (a freshly booted VM). Stop its buildkitd first. */
export function resetEc2Host(host: TestEc2Host): void {
    emptyDir(host.etcBuildkit);
    emptyDir(host.runBuildkit);
}

/**
 * Runs a shell command on the host as the EC2 user (`host.ssh.user`) over real SSH with the test
 * key, `stdin` as its input. Never rejects on exit codes.
 */
export function sshToEc2Host(host: TestEc2Host, command: string, stdin?: string): Promise<RunResult> {
    return runProcess({
        argv: [
            "ssh",
            "-i",
            host.ssh.privateKey,
            "-p",
            String(host.ssh.port),
            "-o",
            "BatchMode=yes",
            "-o",
            `UserKnownHostsFile=${host.ssh.knownHosts}`,
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "ConnectTimeout=10",
            `${host.ssh.user}@${host.ssh.host}`,
            command,
        ],
        env: process.env as Record<string, string>,
        stdin,
    });
}
