/**
 * The real test environment that `scripts/test-env.sh up` provisions, as the tests see it.
 * Integration tests call `loadTestEnv()` first: if the environment is missing or a part of it is
 * down, the test FAILS naming that part (it never skips silently).
 */
import { execFileSync } from "child_process";
import * as fs from "fs";

export interface TestNode {
    name: string;
    netns: string;
    address: string;
    buildkitEndpoint: string;
    tls: { ca: string; cert: string; key: string };
    ssh: { host: string; port: number; user: string; privateKey: string };
    buildkitdRoot: string;
    /** The node's own buildkitd unix socket (host side). */
    buildkitSocket?: string;
    /** A Docker engine of the node's own, reached over SSH (node2 only). */
    docker?: { host: string; buildkitImage: string; pid?: number };
}

/**
 * An EC2 stand-in host (`scripts/testenv/ec2hosts.sh`): a network namespace on the bridge with only
 * an sshd, which `ec2User` logs in to (passwordless sudo; root may not log in). It shares this
 * machine's file system except `/etc/buildkit` and `/run/buildkit`, which in its sessions (the
 * sshd's private mount namespace) are `etcBuildkit` and `runBuildkit`. No buildkitd runs there
 * until a test starts one (`startBuildkitdOnEc2Host` in `ec2host.ts`).
 */
export interface TestEc2Host {
    name: string;
    netns: string;
    address: string;
    /** The sshd's pid: `nsenter -t <sshdPid> --net --mount` enters the host. */
    sshdPid: number;
    /** This machine's directory that is `/etc/buildkit` on the host. */
    etcBuildkit: string;
    /** This machine's directory that is `/run/buildkit` on the host. */
    runBuildkit: string;
    /** The host's generated files (sshd_config, buildkitd.toml). */
    runDir: string;
    ssh: { host: string; port: number; user: string; privateKey: string; knownHosts: string; config: string };
    /** For a buildkitd on the host: config (registry CAs), root dir, log file, PATH, TCP port. */
    buildkitd: { config: string; root: string; log: string; path: string; port: number };
}

export interface TestEnv {
    /** The environment's state dir (BUILDX_TESTENV_DIR). */
    dir?: string;
    path: string;
    dockerHost: string;
    caCert: string;
    registry: { host: string; url: string };
    authRegistry: { host: string; url: string; username: string; password: string; passwordFile: string };
    baseImage: string;
    /** A Go toolchain image (this machine's GOROOT on the base image), for the build platform only. */
    goImage?: string;
    bridge: { name: string; hostAddress: string; cidr: string };
    nodes: TestNode[];
    binfmt: string[];
    /** A BuildKit image built locally for the docker-container driver (no pulls). */
    buildkitImage?: string;
    /** The EC2 user (`ec2-user`): in every test host's sshd, passwordless sudo, group `docker`. */
    ec2User?: string;
    /** The EC2 stand-in hosts (ec2a 10.213.77.13, ec2b 10.213.77.14). */
    ec2Hosts?: TestEc2Host[];
}

export const DEFAULT_TESTENV_JSON = "/var/lib/pulumi-buildx-testenv/env.json";

let cached: TestEnv | undefined;

/** Reads env.json, puts the environment's tools first on PATH, and checks that every part answers. */
export function loadTestEnv(): TestEnv {
    if (cached) return cached;
    const file = process.env.BUILDX_TESTENV_JSON ?? DEFAULT_TESTENV_JSON;
    if (!fs.existsSync(file)) {
        throw new Error(`test environment missing: ${file} does not exist. Run \`sudo scripts/test-env.sh up\` first (or set BUILDX_TESTENV_JSON).`);
    }
    const env = JSON.parse(fs.readFileSync(file, "utf8")) as TestEnv;
    if (!(process.env.PATH ?? "").split(":").includes(env.path)) {
        process.env.PATH = `${env.path}:${process.env.PATH ?? ""}`;
    }
    process.env.DOCKER_HOST = env.dockerHost;
    const check = (part: string, argv: string[], input?: string) => {
        try {
            execFileSync(argv[0], argv.slice(1), { stdio: "pipe", timeout: 20_000, input });
        } catch (err) {
            const e = err as { stderr?: Buffer; message: string };
            throw new Error(
                `test environment part down: ${part} (${argv.join(" ")}): ${e.stderr?.toString().trim() || e.message}. Run \`scripts/test-env.sh status\`.`,
            );
        }
    };
    check("docker engine", ["docker", "info", "--format", "{{.ServerVersion}}"]);
    check("buildx", ["docker", "buildx", "version"]);
    check("TLS registry", ["curl", "-fsS", "--cacert", env.caCert, `${env.registry.url}/v2/`]);
    // Credentials through curl's config on stdin, not on its command line.
    check(
        "auth registry",
        ["curl", "-fsS", "-K", "-", "--cacert", env.caCert, `${env.authRegistry.url}/v2/`],
        `user = "${env.authRegistry.username}:${env.authRegistry.password}"\n`,
    );
    if (env.nodes.length < 2) {
        throw new Error(`test environment part missing: expected at least 2 buildkitd nodes, env.json lists ${env.nodes.length}`);
    }
    cached = env;
    return env;
}
