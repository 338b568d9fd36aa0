/**
 * Binfmt against the real kernel and Docker engines of the test environment. The real
 * tonistiigi/binfmt image cannot be pulled here: the installer is a local image with the same
 * command-line contract, built from Debian's static QEMU binaries (test/fixtures/binfmt).
 *
 * binfmt_misc is global to the kernel and other tests rely on qemu-aarch64 and qemu-arm: the
 * machine's handlers are snapshotted first and restored exactly (interpreter, magic, mask,
 * flags including F) after every test and again at the end, even when a test fails.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Binfmt } from "../../src/binfmt/component";
import { parseInstallResult } from "../../src/binfmt/report";
import { NodeDockerd, startNodeDockerd } from "../fixtures/binfmt/dockerd";
import { BINFMT_MISC, HandlerSnapshot, readHandler, removeHandler } from "../fixtures/binfmt/handlers";
import { buildInstallerImage } from "../fixtures/binfmt/image";
import { Harness, loadTestEnv, runProgram, TestEnv, unwrap } from "../harness";

/** tonistiigi/binfmt's magic for arm64 and arm (the fixture uses the same). */
const MAGIC: Record<string, string> = {
    "qemu-aarch64": "7f454c460201010000000000000000000200b700",
    "qemu-arm": "7f454c4601010100000000000000000002002800",
    "qemu-s390x": "7f454c4602020100000000000000000000020016",
};

describe("Binfmt (real installs)", function () {
    this.timeout(10 * 60_000);
    let env: TestEnv;
    let snapshot: HandlerSnapshot;
    let harness: Harness;
    const image = `pulumi-buildx-test/binfmt:${process.pid}-${Date.now()}`;
    let imageBuilt = false;
    const timings: Record<string, string> = {};
    const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);
    // Restoring is synchronous, so it also runs if the process exits before after() does.
    const restoreOnExit = () => {
        try {
            snapshot?.restore();
        } catch (err) {
            console.error(`binfmt handlers NOT restored: ${(err as Error).message}`);
        }
    };

    before(() => {
        env = loadTestEnv();
        if (!fs.existsSync(path.join(BINFMT_MISC, "register"))) {
            throw new Error(`test environment part missing: ${BINFMT_MISC} is not mounted (scripts/test-env.sh up mounts it)`);
        }
        snapshot = HandlerSnapshot.take();
        process.on("exit", restoreOnExit);
        for (const name of ["qemu-aarch64", "qemu-arm"]) {
            assert.ok(snapshot.handlers.get(name)?.enabled, `test environment part missing: ${name} is not registered; run scripts/test-env.sh up`);
        }
        timings["installer image build"] = `${buildInstallerImage(image).seconds.toFixed(1)}s`;
        imageBuilt = true;
    });

    after(() => {
        const problems: string[] = [];
        try {
            const changed = snapshot?.restore() ?? [];
            if (changed.length > 0) console.log(`    binfmt handlers restored at the end: ${changed.join(", ")}`);
        } catch (err) {
            problems.push((err as Error).message);
        }
        process.off("exit", restoreOnExit);
        try {
            if (imageBuilt) execFileSync("docker", ["image", "rm", "--force", image], { stdio: "pipe" });
        } catch (err) {
            problems.push(`removing ${image}: ${(err as Error).message}`);
        }
        console.log(
            `    timings: ${Object.entries(timings)
                .map(([k, v]) => `${k} ${v}`)
                .join("; ")}`,
        );
        if (problems.length > 0) throw new Error(problems.join("\n"));
    });

    beforeEach(async () => {
        harness = new Harness();
        await harness.install();
    });

    afterEach(() => {
        harness.dispose();
        // Put the machine's handlers back before anything else runs, whatever the test did.
        snapshot.restore();
        assert.deepStrictEqual(snapshot.diff(), [], "binfmt_misc handlers differ from the machine's after restore");
    });

    const addedBy = (resource: string) => parseInstallResult(harness.named(resource).state.stdout).added;

    it("installs linux/arm64 and linux/arm/v7 on the local engine; a linux/arm/v7 RUN then works; a second run changes nothing", async () => {
        // Make room: the machine has Debian's handlers for both. The gap until the install is a
        // second or two; another build's emulated RUN starting in it would fail.
        removeHandler("qemu-aarch64");
        removeHandler("qemu-arm");
        let started = Date.now();
        const { result, errors } = await runProgram(harness, () => new Binfmt("local", { platforms: ["linux/arm64", "linux/arm/v7"], image }));
        timings["local install"] = `${seconds(started)}s`;
        assert.deepStrictEqual(
            errors.map((e) => e.message),
            [],
        );
        const platforms = await unwrap(result!.platforms);
        for (const p of ["linux/amd64", "linux/arm64", "linux/arm/v7"]) assert.ok(platforms.includes(p), `platforms ${JSON.stringify(platforms)} lacks ${p}`);
        const emulators = await unwrap(result!.emulators);
        for (const e of ["qemu-aarch64", "qemu-arm"]) assert.ok(emulators.includes(e), `emulators lacks ${e}`);
        assert.deepStrictEqual(addedBy("local-install"), ["qemu-aarch64", "qemu-arm"]);

        // The kernel's table now holds the installer's registrations, interpreter opened at registration (F).
        for (const [name, target] of [
            ["qemu-aarch64", "aarch64"],
            ["qemu-arm", "arm"],
        ]) {
            const h = readHandler(name);
            assert.ok(h?.enabled, `${name} is not registered`);
            assert.strictEqual(h.interpreter, `/usr/bin/qemu-${target}`, `${name} is the installer's, not Debian's`);
            assert.match(h.flags, /F/);
            assert.strictEqual(h.magic, MAGIC[name]);
        }

        // A build for linux/arm/v7 runs its RUN step through the new handler.
        const ctx = fs.mkdtempSync(path.join(os.tmpdir(), "binfmt-build-"));
        try {
            fs.writeFileSync(path.join(ctx, "Dockerfile"), `FROM ${env.baseImage}\nRUN uname -m > /arch.txt\n`);
            started = Date.now();
            execFileSync(
                "docker",
                [
                    "buildx",
                    "build",
                    "--builder",
                    "default",
                    "--platform",
                    "linux/arm/v7",
                    "--no-cache",
                    "--progress",
                    "plain",
                    "--output",
                    `type=local,dest=${path.join(ctx, "out")}`,
                    ctx,
                ],
                { stdio: "pipe" },
            );
            timings["linux/arm/v7 RUN build"] = `${seconds(started)}s`;
            assert.strictEqual(fs.readFileSync(path.join(ctx, "out", "arch.txt"), "utf8"), "armv7l\n");
        } finally {
            fs.rmSync(ctx, { recursive: true, force: true });
        }

        // Same inputs again: nothing is installed, nothing is owned, the table is unchanged.
        const table = [...HandlerSnapshot.take().handlers.values()].map((h) => h.raw);
        started = Date.now();
        const again = await runProgram(harness, () => new Binfmt("again", { platforms: ["linux/arm64", "linux/arm/v7"], image }));
        timings["idempotent re-run"] = `${seconds(started)}s`;
        assert.deepStrictEqual(
            again.errors.map((e) => e.message),
            [],
        );
        assert.deepStrictEqual(addedBy("again-install"), []);
        const log = harness.logs
            .filter((l) => l.resource === "again-register")
            .map((l) => l.text)
            .join("");
        assert.match(log, /the host runs linux\/arm64, linux\/arm\/v7 already; nothing to install/);
        assert.doesNotMatch(log, /installing: /, "the installer was not asked to install anything");
        assert.deepStrictEqual(
            [...HandlerSnapshot.take().handlers.values()].map((h) => h.raw),
            table,
        );
        assert.deepStrictEqual(await unwrap(again.result!.platforms), platforms);
    });

    it("fails naming the platform the installer could not enable, removing what it had added", async () => {
        // The fixture carries no qemu-ppc64le binary: registering it fails as tonistiigi/binfmt
        // fails when an emulator is missing, and the report then lacks linux/ppc64le.
        removeHandler("qemu-s390x");
        removeHandler("qemu-ppc64le");
        const { errors } = await runProgram(
            harness,
            () => new Binfmt("broken", { platforms: ["linux/s390x", "linux/ppc64le"], image, uninstallOnDelete: true }),
        );
        const message = errors.map((e) => e.message).join("\n");
        assert.match(message, /broken-install: exit status 1/);
        assert.match(message, /installing: ppc64le cannot register "\/usr\/bin\/qemu-ppc64le"/, "the installer's own log is in the error");
        assert.match(message, /after the install the host still cannot run linux\/ppc64le; the installer reports it runs: [^\n]*linux\/s390x/);
        assert.match(message, /removing the emulators this install registered: qemu-s390x/);
        assert.strictEqual(readHandler("qemu-s390x"), undefined, "the half-done install was rolled back");
        assert.strictEqual(readHandler("qemu-ppc64le"), undefined);
    });

    describe("on a network-namespace host's own dockerd", () => {
        let dockerd: NodeDockerd;
        const nodeImage = `${image}-node`;

        before(async () => {
            const started = Date.now();
            dockerd = await startNodeDockerd(env, env.nodes[0]);
            // The installer exists ONLY on that engine, under a name the local engine does not know:
            // going to the wrong engine would fail (it would try to pull from Docker Hub).
            const tar = execFileSync("docker", ["save", image], { maxBuffer: 1 << 30 });
            dockerd.docker(["load", "--quiet"], tar);
            dockerd.docker(["tag", image, nodeImage]);
            dockerd.docker(["image", "rm", image]);
            timings["node dockerd start + image load"] = `${seconds(started)}s`;
        });

        after(async () => {
            await dockerd?.stop();
        });

        it("installs through dockerHost (ssh://…/docker.sock), and uninstallOnDelete removes exactly what it added", async () => {
            assert.throws(() => execFileSync("docker", ["image", "inspect", nodeImage], { stdio: "pipe" }), "the local engine must not have the node's image");
            removeHandler("qemu-s390x"); // to be installed; qemu-arm stays: it is there already
            const armBefore = readHandler("qemu-arm")!.raw;
            const since = Math.floor(Date.now() / 1000) - 1;
            const started = Date.now();
            const { result, errors } = await runProgram(
                harness,
                () =>
                    new Binfmt("node", { platforms: ["linux/s390x", "linux/arm/v7"], image: nodeImage, dockerHost: dockerd.sshHost, uninstallOnDelete: true }),
            );
            timings["install over ssh://"] = `${seconds(started)}s`;
            assert.deepStrictEqual(
                errors.map((e) => e.message),
                [],
            );
            assert.ok((await unwrap(result!.platforms)).includes("linux/s390x"));
            assert.deepStrictEqual(addedBy("node-install"), ["qemu-s390x"]);
            assert.strictEqual(readHandler("qemu-s390x")?.interpreter, "/usr/bin/qemu-s390x");
            assert.strictEqual(readHandler("qemu-s390x")?.magic, MAGIC["qemu-s390x"]);
            assert.strictEqual(readHandler("qemu-arm")!.raw, armBefore, "the handler that was there is untouched");

            for (const step of ["node-probe", "node-register", "node-install"]) {
                const child = harness.named(step);
                assert.deepStrictEqual(child.inputs.environment, { DOCKER_HOST: dockerd.sshHost });
                assert.ok(!String(child.inputs.create).includes(dockerd.socket), "the endpoint is not on the command line");
            }
            const starts = dockerd
                .docker([
                    "events",
                    "--since",
                    String(since),
                    "--until",
                    String(Math.ceil(Date.now() / 1000)),
                    "--filter",
                    "type=container",
                    "--filter",
                    "event=start",
                    "--format",
                    "{{.Actor.Attributes.image}}",
                ])
                .trim()
                .split("\n");
            assert.deepStrictEqual(starts, [nodeImage, nodeImage], "the report run and the install run, both on the node's engine");

            await harness.destroy();
            assert.strictEqual(readHandler("qemu-s390x"), undefined, "destroy() removed the emulator it added");
            assert.strictEqual(readHandler("qemu-arm")!.raw, armBefore, "and nothing it did not add");
            assert.deepStrictEqual(snapshot.diff(), ["qemu-s390x"], "the only difference from the machine's table is the handler this test removed itself");
        });
    });

    it("leaves the machine's own handlers as they were (also checked after every test)", () => {
        assert.deepStrictEqual(snapshot.diff(), []);
        for (const name of ["qemu-aarch64", "qemu-arm"]) assert.strictEqual(readHandler(name)?.raw, snapshot.handlers.get(name)?.raw);
    });
});
