/**
 * A simulated Docker host for the Binfmt scripts: test/fixtures/binfmt/fake-docker.sh installed
 * as `docker` in a private bin directory, with its state (native platforms, registered, broken
 * and unavailable emulators, and every call) in a private directory.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const FAKE_DOCKER = path.join(__dirname, "..", "..", "fixtures", "binfmt", "fake-docker.sh");

export interface HostState {
    native?: string[];
    emulators?: string[];
    broken?: string[];
    unavailable?: string[];
    sticky?: string[];
    noReport?: boolean;
}

export class FakeHost {
    readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "binfmt-fake-"));
    readonly bin = path.join(this.dir, "bin");
    readonly state = path.join(this.dir, "state");

    constructor(initial: HostState) {
        fs.mkdirSync(this.bin);
        fs.mkdirSync(this.state);
        fs.writeFileSync(path.join(this.bin, "docker"), `#!/bin/sh\nexec bash ${JSON.stringify(FAKE_DOCKER)} "$@"\n`, { mode: 0o755 });
        const lines = (xs: string[] | undefined) => (xs ?? []).map((x) => `${x}\n`).join("");
        fs.writeFileSync(path.join(this.state, "native"), lines(initial.native ?? ["linux/amd64", "linux/386"]));
        fs.writeFileSync(path.join(this.state, "emulators"), lines(initial.emulators));
        fs.writeFileSync(path.join(this.state, "broken"), lines(initial.broken));
        fs.writeFileSync(path.join(this.state, "unavailable"), lines(initial.unavailable));
        fs.writeFileSync(path.join(this.state, "sticky"), lines(initial.sticky));
        if (initial.noReport) fs.writeFileSync(path.join(this.state, "noreport"), "");
    }

    /** Environment that makes `docker` this fake. */
    env(extra: Record<string, string> = {}): Record<string, string> {
        return { ...(process.env as Record<string, string>), PATH: `${this.bin}:${process.env.PATH ?? ""}`, FAKE_BINFMT_STATE: this.state, ...extra };
    }

    /** Runs a script with bash, as the Command resource does. */
    run(script: string, extra: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
        const r = spawnSync("/bin/bash", ["-c", script], { env: this.env(extra), encoding: "utf8" });
        return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    }

    emulators(): string[] {
        return fs
            .readFileSync(path.join(this.state, "emulators"), "utf8")
            .split("\n")
            .filter((l) => l !== "");
    }

    /** The installer arguments of every call (after the image), e.g. `["--install arm64,arm"]`. */
    installerCalls(): string[] {
        const file = path.join(this.state, "calls");
        if (!fs.existsSync(file)) return [];
        return fs
            .readFileSync(file, "utf8")
            .split("\n")
            .filter((l) => l !== "")
            .map((l) => l.replace(/^DOCKER_HOST=\S* run --privileged --rm --network none \S+ ?/, ""));
    }

    dockerHosts(): string[] {
        return fs
            .readFileSync(path.join(this.state, "calls"), "utf8")
            .split("\n")
            .filter((l) => l !== "")
            .map((l) => l.split(" ")[0].slice("DOCKER_HOST=".length));
    }

    dispose(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}
