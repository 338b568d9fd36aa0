import * as pulumi from "@pulumi/pulumi";

/**
 * The installer image used when `image` is not given: `tonistiigi/binfmt` with QEMU 10.2.3, pinned
 * to the release tag AND the digest of its multi-platform image index, so every run installs
 * byte-identical emulators.
 *
 * Why pinned: emulator releases have regressed builds for everyone on the moving `latest` tag
 * (QEMU 5.2 broke arm64 detection, docker/buildx#542; QEMU 9.x builds segfault in some `apt`
 * and `libc-bin` steps, tonistiigi/binfmt#215, #240, #245).
 *
 * To move the pin, pick a tag from https://hub.docker.com/r/tonistiigi/binfmt/tags (or
 * https://github.com/tonistiigi/binfmt/releases), read its index digest with
 * `docker buildx imagetools inspect tonistiigi/binfmt:qemu-vX.Y.Z` (the `Digest:` line), and pass
 * `image: "tonistiigi/binfmt:qemu-vX.Y.Z@sha256:<that digest>"`.
 */
export const DEFAULT_BINFMT_IMAGE = "tonistiigi/binfmt:qemu-v10.2.3@sha256:400a4873b838d1b89194d982c45e5fb3cda4593fbfd7e08a02e76b03b21166f0";

/**
 * The arguments of `new Binfmt(name, args)`: which platforms a Docker host must run afterwards
 * (`docker run --privileged tonistiigi/binfmt --install …`), with which installer image, on which
 * host. Required: `platforms`.
 */
export interface BinfmtArgs {
    /**
     * Platforms the Docker host must be able to run after the install, e.g.
     * `["linux/arm64", "linux/arm/v7"]`, or `"all"` for every emulator the installer carries.
     * Short and alias forms (`arm64`, `aarch64`, `armhf`) are normalised as Docker does; at least
     * one, no duplicates. Platforms the host already runs (natively or through an emulator that
     * is already registered) are left alone; the others are installed. Equivalent to
     * `docker run --privileged --rm tonistiigi/binfmt --install arm64,arm` (or `--install all`).
     * Required.
     */
    platforms: string[] | "all";
    /**
     * The installer image: `tonistiigi/binfmt` or any image with the same command-line contract
     * (`--install LIST`, `--uninstall LIST`, and a JSON report
     * `{"supported": [...], "emulators": [...]}` on stdout). Default: {@link DEFAULT_BINFMT_IMAGE},
     * pinned to a QEMU release tag and digest; see there how to move the pin. Pin your own
     * choice by digest too (`name:tag@sha256:…`). Equivalent to the `IMAGE` argument of
     * `docker run`.
     */
    image?: string;
    /**
     * The Docker engine to install on: `unix:///var/run/docker.sock`, `ssh://user@host` (also
     * `ssh://user@host/path/to/docker.sock`), or `tcp://host:2376` (TLS settings then come from
     * your `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH`). Default: the local engine (your `DOCKER_HOST`
     * or current Docker context). Passed to `docker` in the `DOCKER_HOST` environment variable of
     * the command, never on its command line. Equivalent to Docker's `--host` flag.
     */
    dockerHost?: pulumi.Input<string>;
    /**
     * Remove, when this resource is deleted, exactly the emulators it registered (not those that
     * were there before it). Default false: other builds on the host may rely on the emulators,
     * and binfmt_misc registrations are global to the host's kernel. With true, a replacement
     * deletes before it creates, so the new install is not undone by the old one's removal.
     * Equivalent to `docker run --privileged --rm tonistiigi/binfmt --uninstall qemu-aarch64,…`.
     */
    uninstallOnDelete?: boolean;
}
