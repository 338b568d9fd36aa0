/**
 * The file exports (`local`, `tar`) and the load into Docker (`docker` output, `load`): their
 * buildx words and the script lines that keep `dest` safe. Pure.
 *
 * `dest` safety, as for the OCI layout: buildx writes to `<dest>.partial` beside it; only after a
 * successful build does that replace `dest` (a rename). An existing `dest` that is not one of
 * these exports is refused before anything runs: for `local`, a directory holding anything but
 * per-platform directories (`linux_amd64`, …); for `tar`, anything but a file `tar` can list.
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

/** Before the build: `$dest` and `$partial` set, a `dest` that is not ours refused, the partial one removed (also on exit). */
export function fileExportPrepareLines(output: FileExport, dest: string, partial: string): Line[] {
    const notOurs =
        output.type === "local"
            ? // Any entry that is not a per-platform directory (os_arch[_variant]).
              '[ ! -d "$dest" ] || [ -n "$(find "$dest" -mindepth 1 -maxdepth 1 \\( ! -type d -o ! -regex \'.*/[a-z0-9]+_[a-z0-9]+\\(_[a-z0-9]+\\)?\' \\) -print -quit)" ]'
            : '[ ! -f "$dest" ] || ! tar -tf "$dest" > /dev/null 2>&1';
    const what = output.type === "local" ? "a directory of per-platform exports" : "a tar file";
    return [
        sh`dest=${dest}`,
        sh`partial=${partial}`,
        bash(`trap 'rm -rf -- "$work" "$partial"' EXIT`),
        bash(`if [ -e "$dest" ] && { ${notOurs}; }; then`),
        bash(`  echo "pulumi-buildx: output.dest $dest exists and is not ${what}; refusing to replace it" >&2; exit 1`),
        bash("fi"),
        bash('rm -rf -- "$partial"'),
    ];
}

/** After the build: the partial export replaces `dest`. */
export function fileExportFinishLines(): Line[] {
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
        '  echo "pulumi-buildx: load (--load) of more than one platform needs the containerd image store, and the Docker engine $(docker context show) does not use it: enable it (\\"features\\": {\\"containerd-snapshotter\\": true} in daemon.json) or build one platform" >&2; exit 1',
        "fi",
    );
}
