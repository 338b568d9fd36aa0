/**
 * Plausible stdout for each script pulumi-buildx runs, read off the script itself, for the
 * consumer mocks in `./index.ts`. Pure: script text in, stdout text out. Each answer is in the
 * form the component's own parser reads (see the golden scripts under test/golden), so the
 * components check these answers exactly as they check a real run's.
 */
import { createHash } from "crypto";
import { ADDED_MARKER, REPORT_MARKER } from "../binfmt/plan";
import { BUILDER_RESULT_MARKER } from "../builder/plan";
import { RESULT_MARKER } from "../image/plan";
import { READY_MARKER } from "../nodes/ec2/readiness";
import { HOST_KEY_MARKER } from "../nodes/ec2/host-key";

/** Which of our scripts `create` is, by what it prints; undefined for any other command. */
export type ScriptKind = "build" | "binfmt" | "builder" | "ready" | "host-key";

export function scriptKind(create: unknown): ScriptKind | undefined {
    if (typeof create !== "string") return undefined;
    if (create.includes(RESULT_MARKER)) return "build";
    if (create.includes(REPORT_MARKER)) return "binfmt";
    if (create.includes(READY_MARKER)) return "ready";
    if (/^node_step .* docker buildx create /m.test(create)) return "builder";
    if (/^node .*host-key-main\.(js|ts)'?$/.test(create)) return "host-key";
    return undefined;
}

export function fakeDigest(...parts: string[]): string {
    return `sha256:${createHash("sha256").update(parts.join("\0")).digest("hex")}`;
}

/** The words of the first line that starts with `prefix` (our scripts quote with '…' only). */
function wordsOf(script: string, prefix: string): string[][] {
    return script
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line.startsWith(prefix))
        .map((line) => [...line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]));
}

function flag(words: string[], name: string): string | undefined {
    const i = words.indexOf(name);
    return i >= 0 ? words[i + 1] : undefined;
}

/**
 * The result line of a build: an OCI index with one manifest per `--platform` entry (digests
 * derived from `seed` and the platform), reported by buildx for a push or as the layout's top
 * entry for an OCI export; nothing for a build that was neither pushed nor exported.
 */
export function buildStdout(script: string, seed: string): string {
    const [words = []] = wordsOf(script, "docker buildx build ");
    const platforms = (flag(words, "--platform") ?? "linux/amd64").split(",");
    const pushed = words.includes("--push");
    const oci = (flag(words, "--output") ?? "").startsWith("type=oci");
    const encode = (text: string) => Buffer.from(text, "utf8").toString("base64");
    if (!pushed && !oci) return `${RESULT_MARKER}${JSON.stringify({ metadata: encode("{}"), layout: encode("{}"), index: "" })}\n`;
    const index = JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: platforms.map((p) => {
            const [os, architecture, variant] = p.split("/");
            return {
                mediaType: "application/vnd.oci.image.manifest.v1+json",
                digest: fakeDigest(seed, p),
                size: 1024,
                platform: { os, architecture, ...(variant ? { variant } : {}) },
            };
        }),
    });
    const digest = fakeDigest(index);
    const metadata = { "containerimage.digest": digest };
    const layout = oci ? { manifests: [{ mediaType: "application/vnd.oci.image.index.v1+json", digest }] } : {};
    return `${RESULT_MARKER}${JSON.stringify({ metadata: encode(JSON.stringify(metadata)), layout: encode(JSON.stringify(layout)), index: encode(index) })}\n`;
}

/** What an x86-64 host runs after `tonistiigi/binfmt --install all`. */
const EMULATED = ["linux/arm64", "linux/riscv64", "linux/ppc64le", "linux/s390x", "linux/386", "linux/arm/v7", "linux/arm/v6"];
const EMULATORS = ["qemu-aarch64", "qemu-riscv64", "qemu-ppc64le", "qemu-s390x", "qemu-i386", "qemu-arm"];

/** An install that registered every emulator: the host runs linux/amd64 natively and the rest emulated. */
export function binfmtStdout(): string {
    const report = { supported: ["linux/amd64", "linux/amd64/v2", "linux/amd64/v3", ...EMULATED], emulators: EMULATORS };
    return `${ADDED_MARKER}${EMULATORS.join(",")}\n${REPORT_MARKER}${JSON.stringify(report)}\n`;
}

/** `docker buildx inspect` of the builder the script creates: every node running, pinned to its `--platform`s. */
export function builderStdout(script: string): string {
    const creates = wordsOf(script, "node_step ").filter((w) => w.includes("create"));
    const first = creates[0] ?? [];
    const lines = [`Name:          ${flag(first, "--name") ?? ""}`, `Driver:        ${flag(first, "--driver") ?? "docker-container"}`, "", "Nodes:"];
    for (const words of creates) {
        const last = words[words.length - 1];
        const pinned = (flag(words, "--platform") ?? "").split(",").filter((p) => p !== "");
        lines.push(
            `Name:             ${flag(words, "--node") ?? ""}`,
            `Endpoint:         ${/^[a-z]+:\/\//.test(last) ? last : "unix:///var/run/docker.sock"}`,
            "Status:           running",
            "BuildKit version: v0.16.0",
            `Platforms:        ${[...pinned.map((p) => `${p}*`), ...["linux/amd64", "linux/arm64"].filter((p) => !pinned.includes(p))].join(", ")}`,
            "",
        );
    }
    return resultText(BUILDER_RESULT_MARKER, { inspect: lines.join("\n") });
}

/** The one result line our scripts print (`resultLine` in src/shell.ts): `MARKER{"field":"base64",…}`. */
function resultText(marker: string, fields: Record<string, string>): string {
    const encoded = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Buffer.from(v, "utf8").toString("base64")]));
    return `${marker}${JSON.stringify(encoded)}\n`;
}

/** A node that answered: BuildKit's version, an ed25519 host key and a TTL deadline `ttlHours` from `now`. */
export function readyStdout(now: Date, ttlHours = 2): string {
    const deadline = new Date(now.getTime() + ttlHours * 3600_000)
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, " UTC");
    return resultText(READY_MARKER, { version: "v0.16.0", sshHostKey: madeUpHostKey(`ready ${deadline}`), expiresAt: deadline });
}

/** What the host-key reader of an EC2 node prints: a made-up key of the instance. */
export function hostKeyStdout(instanceId: string): string {
    return `${HOST_KEY_MARKER} ${madeUpHostKey(instanceId)}\n`;
}

/**
 * A made-up but well-formed ed25519 public key (`ssh-ed25519 AAAA…`) for `seed`: the SSH wire
 * form (string "ssh-ed25519", string of 32 bytes), the bytes being SHA-256 of the seed.
 */
export function madeUpHostKey(seed: string): string {
    const str = (b: Buffer) => {
        const length = Buffer.alloc(4);
        length.writeUInt32BE(b.length);
        return Buffer.concat([length, b]);
    };
    const wire = Buffer.concat([str(Buffer.from("ssh-ed25519")), str(createHash("sha256").update(seed).digest())]);
    return `ssh-ed25519 ${wire.toString("base64")}`;
}
