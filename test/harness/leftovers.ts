/**
 * What a stopped run may have left behind: processes that carry its marker in their environment
 * (every process a run starts inherits it), and files that hold a registry login.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Processes whose environment carries `marker` (every process a run started inherits it). */
export function processesWith(marker: string): string[] {
    const found: string[] = [];
    for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
        try {
            if (fs.readFileSync(`/proc/${pid}/environ`).includes(marker)) {
                found.push(`${pid} ${fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim()}`);
            }
        } catch {
            /* gone, or not ours to read */
        }
    }
    return found;
}

/** Files under `dirs` whose bytes contain `needle` (the registry login, as docker writes it or in plain). */
export function filesContaining(dirs: string[], needles: string[]): string[] {
    const hits: string[] = [];
    const walk = (p: string, depth: number) => {
        let st: fs.Stats;
        try {
            st = fs.lstatSync(p);
        } catch {
            return;
        }
        if (st.isDirectory() && depth < 8) {
            let entries: string[] = [];
            try {
                entries = fs.readdirSync(p);
            } catch {
                return;
            }
            for (const e of entries) walk(path.join(p, e), depth + 1);
        } else if (st.isFile() && st.size < 1 << 20) {
            try {
                const bytes = fs.readFileSync(p);
                if (needles.some((n) => bytes.includes(n))) hits.push(p);
            } catch {
                /* gone */
            }
        }
    };
    for (const d of dirs) walk(d, 0);
    return hits;
}

/** Where a run could have written a login: the temporary directory, the tmpfs, the runtime directory. */
export function scanDirs(): string[] {
    return [os.tmpdir(), "/dev/shm", ...(process.env.XDG_RUNTIME_DIR ? [process.env.XDG_RUNTIME_DIR] : [])];
}

/** A registry login as it could appear in a file: the password, and docker's `auths` form (base64 user:password). */
export function credentialNeedles(username: string, password: string): string[] {
    return [password, Buffer.from(`${username}:${password}`).toString("base64")];
}

/**
 * Watches every process's command line (every 50 ms) until `stop()`, which returns the processes
 * whose command line held one of `needles` (e.g. a secret that must travel only in the environment).
 */
export function watchCommandLines(needles: string[]): { stop(): Promise<string[]> } {
    const seen: string[] = [];
    let watching = true;
    const loop = (async () => {
        while (watching) {
            for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
                try {
                    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
                    if (needles.some((n) => cmdline.includes(n))) seen.push(`${pid}: ${cmdline.replace(/\0/g, " ")}`);
                } catch {
                    /* process ended */
                }
            }
            await new Promise((r) => setTimeout(r, 50));
        }
    })();
    return {
        async stop() {
            watching = false;
            await loop;
            return seen;
        },
    };
}
