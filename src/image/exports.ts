/**
 * The file exports (`local`, `tar`) and the load into Docker (`docker` output, `load`): their
 * buildx words and the script lines that keep `dest` safe. Pure.
 *
 * `dest` safety, the same for the OCI layout: buildx writes to `<dest>.partial` beside it; only
 * after a successful build does that replace `dest` (a rename). An existing `dest` (or
 * `<dest>.partial`) that is not such an export is refused before anything runs: for `oci`, a
 * directory without `oci-layout`; for `local`, a directory holding anything but per-platform
 * directories (`linux_amd64`, `linux_arm_v7`, …); for `tar`, a file with any entry outside them.
 */
import { bash, bashLines, csvValue, Line, sh, Word } from "../shell";
import { ImageOutput } from "./args";

export type FileExport = Extract<ImageOutput, { type: "local" | "tar" }>;

/** BuildKit's frontend option that makes even a one-platform result a per-platform map, so `local` and `tar` always hold one directory per platform. */
const MULTI_PLATFORM_ARG = "BUILDKIT_MULTI_PLATFORM=1";

export function isFileExport(output: ImageOutput): output is FileExport {
    return output.type === "local" || output.type === "tar";
}

/** The buildx words of a file export written to `partial`. */
export function fileExportFlags(output: FileExport, partial: string): Word[] {
    const fields = output.type === "local" ? ["type=local", `dest=${partial}`, "platform-split=true"] : ["type=tar", `dest=${partial}`];
    return ["--build-arg", MULTI_PLATFORM_ARG, "--output", csvValue(fields)];
}

/** The outputs written to a `dest` on disk. */
export type DestOutput = Extract<ImageOutput, { type: "oci" | "local" | "tar" }>;

export function isDestOutput(output: ImageOutput): output is DestOutput {
    return output.type === "oci" || isFileExport(output);
}

/** Go's GOOS and GOARCH names that BuildKit's platform-split exports use in their directory names. */
const OS_NAMES = [
    "linux",
    "windows",
    "freebsd",
    "netbsd",
    "openbsd",
    "darwin",
    "dragonfly",
    "illumos",
    "solaris",
    "aix",
    "plan9",
    "android",
    "ios",
    "js",
    "wasip1",
];
const ARCH_NAMES = ["amd64", "arm64", "arm", "386", "ppc64le", "ppc64", "s390x", "riscv64", "mips64le", "mips64", "mipsle", "mips", "loong64", "wasm"];

/** One platform's part of a platform-split export, e.g. `linux_arm64`, `linux_arm_v7` (an ERE without anchors). */
export const PLATFORM_PART = `(${OS_NAMES.join("|")})_(${ARCH_NAMES.join("|")})(_v[0-9]+)?`;

/**
 * A bash test that is true when the path in `$<variable>` is NOT an export of this kind, i.e. must
 * not be deleted: an OCI layout has its `oci-layout` file; a `local` export is a directory of
 * per-platform directories only (an empty one too, it holds nothing to lose); a `tar` export is a
 * tar file whose every entry lies in such a per-platform directory. No pipe: under `pipefail` an
 * early-exiting `grep -q` would make the writer's SIGPIPE the pipeline's status.
 */
export function notAnExportTest(type: DestOutput["type"], variable: "dest" | "partial"): string {
    const v = `"$${variable}"`;
    switch (type) {
        case "oci":
            return `[ ! -f ${v}/oci-layout ]`;
        case "local":
            // Any entry that is not a per-platform directory.
            return (
                `[ ! -d ${v} ] || [ -n "$(find ${v} -mindepth 1 -maxdepth 1 -regextype posix-extended ` +
                `\\( ! -type d -o ! -regex '.*/${PLATFORM_PART}' \\) -print -quit)" ]`
            );
        case "tar":
            // Not a tar, an empty one, or one with any entry outside a per-platform directory.
            return (
                `[ ! -f ${v} ] || ! entries="$(tar -tf ${v} 2> /dev/null)" || [ -z "$entries" ] || ` +
                `grep -qvE '^(\\./)?(${PLATFORM_PART}(/.*)?)?$' <<< "$entries"`
            );
    }
}

const WHAT: Record<DestOutput["type"], string> = {
    oci: "an OCI image layout",
    local: "a directory of per-platform exports",
    tar: "a tar file of per-platform exports",
};

/**
 * Before the build: `$dest` and `$partial` set; a `dest` that is not an export of this kind refused,
 * and so is a `partial` that is not (a user's own `<dest>.partial`); only then is the partial one
 * removed, and removed again on exit. `dest` and `partial` are given as the script must use them
 * (`positionalPath`: no leading dash reaches `find`, `tar` or `rm`).
 */
export function destPrepareLines(type: DestOutput["type"], dest: string, partial: string): Line[] {
    return [
        sh`dest=${dest}`,
        sh`partial=${partial}`,
        bash(`trap 'rm -rf -- "$work"' EXIT`),
        bash(`if [ -e "$dest" ] && { ${notAnExportTest(type, "dest")}; }; then`),
        bash(`  echo "pulumi-buildx: output.dest $dest exists and is not ${WHAT[type]}; refusing to replace it" >&2; exit 1`),
        bash("fi"),
        bash(`if [ -e "$partial" ] && { ${notAnExportTest(type, "partial")}; }; then`),
        bash(
            `  echo "pulumi-buildx: $partial, where the export is written before it replaces $dest, exists and is not ${WHAT[type]} ` +
                '(a build killed midway can leave a half-written one): remove or rename it; refusing to delete it" >&2; exit 1',
        ),
        bash("fi"),
        bash(`trap 'rm -rf -- "$work" "$partial"' EXIT`),
        bash('rm -rf -- "$partial"'),
    ];
}

/** After the build: the partial export replaces `dest`. */
export function destFinishLines(): Line[] {
    return bashLines('rm -rf -- "$dest"', 'mv -- "$partial" "$dest"');
}

/**
 * Before a multi-platform `--load`: the Docker engine the CLI reaches must use the containerd
 * image store, which alone holds multi-platform images. Refused with a clear message otherwise.
 */
export function loadCheckLines(platformCount: number): Line[] {
    if (platformCount < 2) return [];
    return bashLines(
        'store="$(docker info --format \'{{range .DriverStatus}}{{if eq (index . 0) "driver-type"}}{{index . 1}}{{end}}{{end}}\')"',
        'if [ "$store" != io.containerd.snapshotter.v1 ]; then',
        '  echo "pulumi-buildx: load (--load) of more than one platform needs the containerd image store, ' +
            "and the Docker engine $(docker context show) does not use it: " +
            'enable it (\\"features\\": {\\"containerd-snapshotter\\": true} in daemon.json) or build one platform" >&2; exit 1',
        "fi",
    );
}
