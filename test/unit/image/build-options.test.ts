/**
 * Issue 16's arguments: named contexts, load, local/tar/docker outputs, the S3 cache and the
 * provenance modes. Validation (table), buildx words, golden scripts that run in bash, and the
 * attestation map.
 */
import * as assert from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { MultiPlatformImageArgs } from "../../../src/image/args";
import { attestationDigestsFromIndex } from "../../../src/image/attestations";
import { hashLocalContexts } from "../../../src/image/contexts";
import { BuildPlanInput, buildArgv, planBuild } from "../../../src/image/plan";
import { validateImageArgs } from "../../../src/image/validate";
import { renderScript, renderWord } from "../../../src/shell";
import { expectGolden } from "../../harness/golden";
import { planInput } from "./plan-input";

const words = (patch: Partial<BuildPlanInput>) => buildArgv(planInput(patch)).map(renderWord).join(" ");

describe("build options of issue 16", () => {
    let ctx: string;
    before(() => {
        ctx = fs.mkdtempSync(path.join(os.tmpdir(), "options-"));
        fs.writeFileSync(path.join(ctx, "Dockerfile"), "FROM scratch\n");
        fs.mkdirSync(path.join(ctx, "shared"));
        fs.writeFileSync(path.join(ctx, "shared", "a.txt"), "a\n");
    });
    after(() => fs.rmSync(ctx, { recursive: true, force: true }));
    const base = (): MultiPlatformImageArgs => ({ context: ctx, platforms: ["linux/amd64", "arm64"], tags: ["10.0.0.1:5000/app:1"] });

    describe("validation", () => {
        const s3 = { type: "s3" as const, bucket: "team-cache", region: "eu-west-1" };
        const cases: [string, Partial<MultiPlatformImageArgs> & Record<string, unknown>, string, RegExp][] = [
            ["a context name with =", { buildContexts: { "a=b": "docker-image://x/y:1" } }, "buildContexts.a=b", /no `=`/],
            ["a context dir that does not exist", { buildContexts: { base: "./nope-dir" } }, "buildContexts.base", /an existing directory/],
            [
                "a bad docker-image ref",
                { buildContexts: { base: "docker-image://Bad Ref" } },
                "buildContexts.base",
                /docker-image:\/\/ followed by an image reference/,
            ],
            ["an oci-layout with a bad digest", { buildContexts: { base: "oci-layout:///l@sha256:xyz" } }, "buildContexts.base", /@sha256:<64 hex digits>/],
            ["a target: with no stage", { buildContexts: { base: "target:" } }, "buildContexts.base", /name of a build stage/],
            ["an unknown scheme", { buildContexts: { base: "ftp://x/y" } }, "buildContexts.base", /a local directory, docker-image:\/\/REF/],
            ["buildContexts not an object", { buildContexts: ["x"] as never }, "buildContexts", /an object mapping context names/],
            ["load not boolean", { load: "yes" as never }, "load", /true or false/],
            ["load with a docker output", { load: true, output: { type: "docker" } }, "load", /means the same/],
            ["load with an oci output", { load: true, output: { type: "oci", dest: "/tmp/o" } }, "load", /give one output/],
            ["load with a local output", { load: true, output: { type: "local", dest: "/tmp/o" } }, "load", /give one output/],
            ["a local output without dest", { output: { type: "local", dest: "" } }, "output.dest", /directory to export the files to/],
            ["a tar output with push", { output: { type: "tar", dest: "/tmp/o.tar" }, push: true }, "push", /writes to disk/],
            ["provenance mode", { provenance: "full" as never }, "provenance", /"full" is not valid: expected true, false, "min" or "max"/],
            ["an s3 bucket", { cacheTo: [{ ...s3, bucket: "Bad_Bucket" }] }, "cacheTo[0].bucket", /"Bad_Bucket" is not valid: expected an S3 bucket name/],
            ["an s3 region", { cacheTo: [{ ...s3, region: "" }] }, "cacheTo[0].region", /the bucket's region/],
            ["an s3 endpoint", { cacheFrom: [{ ...s3, endpointUrl: "minio:9000" }] }, "cacheFrom[0].endpointUrl", /an http\(s\) URL/],
            ["an s3 usePathStyle", { cacheTo: [{ ...s3, usePathStyle: "yes" as never }] }, "cacheTo[0].usePathStyle", /true or false/],
            ["an s3 mode on a source", { cacheFrom: [{ ...s3, mode: "max" }] }, "cacheFrom[0].mode", /for `cacheTo` only/],
            ["an s3 mode", { cacheTo: [{ ...s3, mode: "all" as never }] }, "cacheTo[0].mode", /"min" or "max"/],
            ["an s3 key as argument", { cacheTo: [{ ...s3, secretAccessKey: "x" } as never] }, "cacheTo[0].secretAccessKey", /only from the environment/],
            ["an s3 name with a CR", { cacheTo: [{ ...s3, name: "a\rb" }] }, "cacheTo[0].name", /carriage return/],
        ];
        for (const [title, patch, property, message] of cases) {
            it(`rejects ${title} naming ${property}`, () => {
                const cwd = process.cwd();
                process.chdir(ctx);
                try {
                    validateImageArgs("app", { ...base(), ...patch } as MultiPlatformImageArgs);
                    assert.fail("expected an InputPropertiesError");
                } catch (err) {
                    assert.ok(pulumi.InputPropertiesError.isInstance(err), String(err));
                    const mine = (err as pulumi.InputPropertiesError).errors.find((x) => x.propertyPath === property);
                    assert.ok(mine, `no error for ${property}; got ${JSON.stringify((err as pulumi.InputPropertiesError).errors)}`);
                    assert.match(mine!.reason, message);
                } finally {
                    process.chdir(cwd);
                }
            });
        }

        it("classifies contexts: local dirs resolved, scheme values passed, a load without tags allowed", () => {
            const v = validateImageArgs("app", {
                ...base(),
                tags: undefined,
                load: true,
                buildContexts: { shared: path.join(ctx, "shared"), img: "docker-image://10.0.0.1:5000/base:1", stage: "target:build" },
            });
            assert.deepStrictEqual(
                v.contexts.map((c) => [c.kind, c.name]),
                [
                    ["local", "shared"],
                    ["value", "img"],
                    ["value", "stage"],
                ],
            );
            assert.strictEqual(v.load, true);
            assert.strictEqual(v.push, false);
        });
    });

    describe("buildx words", () => {
        const s3 = { type: "s3" as const, bucket: "team-cache", region: "eu-west-1", endpointUrl: "http://10.0.0.5:9000", usePathStyle: true };
        const table: [string, Partial<BuildPlanInput>, string][] = [
            ["provenance mode", { provenance: "max" }, "--provenance=mode=max"],
            ["provenance off", { provenance: false }, "--provenance=false"],
            [
                "s3 cache-to, CSV-quoted fields",
                { cacheTo: [{ ...s3, prefix: "a,b/", name: "app", mode: "max" }] },
                `--cache-to 'type=s3,region=eu-west-1,bucket=team-cache,endpoint_url=http://10.0.0.5:9000,use_path_style=true,"prefix=a,b/",name=app,mode=max'`,
            ],
            [
                "s3 cache-from (no mode)",
                { cacheFrom: [{ ...s3 }] },
                "--cache-from type=s3,region=eu-west-1,bucket=team-cache,endpoint_url=http://10.0.0.5:9000,use_path_style=true",
            ],
            ["load with a push", { load: true }, "--push --load"],
            ["docker output", { output: { type: "docker" }, push: false, tags: [] }, "--load --progress"],
            [
                "local output",
                { output: { type: "local", dest: "/proj/out" }, push: false },
                "--build-arg BUILDKIT_MULTI_PLATFORM=1 --output type=local,dest=out.partial,platform-split=true",
            ],
            ["tar output", { output: { type: "tar", dest: "/tmp/x.tar" }, push: false }, "--output type=tar,dest=/tmp/x.tar.partial"],
            [
                "named contexts: a local dir relative with ./, others as given",
                { buildContexts: { shared: "/proj/shared", base: "docker-image://r/b@sha256:" + "a".repeat(64) }, localContexts: ["shared"] },
                `--build-context shared=./shared --build-context base=docker-image://r/b@sha256:${"a".repeat(64)}`,
            ],
            ["a local dir named like a scheme stays a path", { buildContexts: { x: "/proj/target:y" }, localContexts: ["x"] }, "--build-context x=./target:y"],
        ];
        for (const [title, patch, expected] of table) {
            it(title, () => assert.ok(words(patch).includes(expected), `${words(patch)}\n  lacks\n${expected}`));
        }
    });

    describe("scripts", () => {
        const variants: [string, Partial<BuildPlanInput>][] = [
            ["local.sh", { output: { type: "local", dest: "/proj/out" }, push: false, tags: [] }],
            ["tar.sh", { output: { type: "tar", dest: "/proj/out.tar" }, push: false, tags: [] }],
            ["load.sh", { output: { type: "docker" }, push: false }],
        ];
        for (const [name, patch] of variants) {
            it(`matches golden/${name}, passes bash -n and shellcheck`, () => {
                const script = renderScript(planBuild(planInput(patch)));
                expectGolden(name, script);
                execFileSync("bash", ["-n", "-c", script]);
                const sc = spawnSync("shellcheck", ["-s", "bash", "-e", "SC2016", "-"], { input: script, encoding: "utf8" });
                assert.strictEqual(sc.status, 0, sc.stdout);
            });
        }

        /** Runs a dest export's script up to the build (the checks, the partial's removal) against real files; docker is never reached. */
        const runDestCheck = (output: { type: "oci" | "local" | "tar"; dest: string }, cwd = "/") => {
            const plan = renderScript(planBuild(planInput({ output, push: false, tags: [], cwd })));
            const lines = plan.split("\n");
            const upTo = lines.findIndex((l) => l.includes("docker buildx build"));
            const script = lines.slice(0, upTo).join("\n") + "\necho checked\n";
            return spawnSync("bash", ["-c", script], { encoding: "utf8", cwd, env: { ...process.env, TMPDIR: os.tmpdir() } });
        };
        const refused = (r: { stdout: string; stderr: string }, what: RegExp) => {
            assert.doesNotMatch(r.stdout, /checked/, r.stderr);
            assert.match(r.stderr, what);
        };
        const mkfile = (p: string, text = "mine\n") => {
            fs.mkdirSync(path.dirname(p), { recursive: true });
            fs.writeFileSync(p, text);
        };

        it("refuses to replace a local dest that is not a per-platform export, accepts one that is", () => {
            const dest = path.join(ctx, "out");
            fs.mkdirSync(path.join(dest, "linux_arm_v7"), { recursive: true });
            fs.mkdirSync(path.join(dest, "linux_amd64"));
            assert.match(runDestCheck({ type: "local", dest }).stdout, /checked/);
            fs.writeFileSync(path.join(dest, "notes.txt"), "mine\n");
            refused(runDestCheck({ type: "local", dest }), /exists and is not a directory of per-platform exports; refusing to replace it/);
            assert.ok(fs.existsSync(path.join(dest, "notes.txt")));
        });

        it("refuses a local dest of subdirectories that only look like platforms (my_project, build_v2)", () => {
            for (const sub of ["my_project", "build_v2", "linux_amd64x", "linux_arm64_final"]) {
                const dest = path.join(ctx, `work-${sub}`);
                mkfile(path.join(dest, sub, "thesis.tex"));
                refused(runDestCheck({ type: "local", dest }), /is not a directory of per-platform exports/);
                assert.ok(fs.existsSync(path.join(dest, sub, "thesis.tex")), sub);
            }
        });

        it("a dest with a leading dash is checked as a path, not an option of find: the user's directory is refused and kept", () => {
            for (const type of ["oci", "local", "tar"] as const) {
                const dir = fs.mkdtempSync(path.join(ctx, `dash-${type}-`));
                mkfile(path.join(dir, "-v", "precious.txt"));
                refused(runDestCheck({ type, dest: path.join(dir, "-v") }, dir), /output\.dest \.\/-v exists and is not/);
                assert.ok(fs.existsSync(path.join(dir, "-v", "precious.txt")), type);
            }
        });

        it("refuses to delete a <dest>.partial that is not a partial export, also when dest itself is refused", () => {
            for (const type of ["oci", "local", "tar"] as const) {
                const dir = fs.mkdtempSync(path.join(ctx, `partial-${type}-`));
                const dest = path.join(dir, "out");
                mkfile(path.join(dest + ".partial", "precious.txt"));
                refused(
                    runDestCheck({ type, dest }),
                    /out\.partial, where the export is written before it replaces .*out, exists and is not .*refusing to delete it/,
                );
                assert.ok(fs.existsSync(path.join(dest + ".partial", "precious.txt")), type);
                // dest refused first: the exit trap must not take the user's partial with it.
                mkfile(path.join(dest, "mine.txt"));
                refused(runDestCheck({ type, dest }), /output\.dest .*out exists and is not/);
                assert.ok(fs.existsSync(path.join(dest + ".partial", "precious.txt")), type);
            }
        });

        it("removes a partial local export a killed build left, and goes on", () => {
            const dest = path.join(ctx, "killed");
            mkfile(path.join(dest + ".partial", "linux_amd64", "app"));
            assert.match(runDestCheck({ type: "local", dest }).stdout, /checked/);
            assert.ok(!fs.existsSync(dest + ".partial"));
        });

        it("refuses to replace a tar dest that is not a tar of per-platform exports, accepts one that is", () => {
            const dest = path.join(ctx, "out.tar");
            fs.writeFileSync(dest, "not a tar, but long enough to not be an empty archive ".repeat(20));
            refused(runDestCheck({ type: "tar", dest }), /exists and is not a tar file of per-platform exports; refusing to replace it/);
            // A tar, but of the user's own files (a backup, say).
            execFileSync("tar", ["-cf", dest, "-C", ctx, "Dockerfile"]);
            refused(runDestCheck({ type: "tar", dest }), /is not a tar file of per-platform exports/);
            assert.ok(fs.statSync(dest).size > 0);
            // An export: every entry in a per-platform directory, with or without a leading ./
            const src = fs.mkdtempSync(path.join(ctx, "tar-src-"));
            mkfile(path.join(src, "linux_amd64", "bin", "app"));
            mkfile(path.join(src, "linux_arm_v7", "bin", "app"));
            execFileSync("tar", ["-cf", dest, "-C", src, "linux_amd64", "linux_arm_v7"]);
            assert.match(runDestCheck({ type: "tar", dest }).stdout, /checked/);
            execFileSync("tar", ["-cf", dest, "-C", src, "."]);
            assert.match(runDestCheck({ type: "tar", dest }).stdout, /checked/);
        });
    });

    describe("attestation digests", () => {
        const d = (c: string) => `sha256:${c.repeat(64)}`;
        const index = (manifests: unknown[]) => Buffer.from(JSON.stringify({ manifests }));
        const att = (digest: string, subject: string) => ({
            digest,
            platform: { os: "unknown", architecture: "unknown" },
            annotations: { "vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": subject },
        });
        const platforms = { "linux/amd64": d("a"), "linux/arm64": d("b") };

        it("maps each attestation manifest to its image's platform", () => {
            const raw = index([{ digest: d("a") }, { digest: d("b") }, att(d("c"), d("a")), att(d("e"), d("b"))]);
            assert.deepStrictEqual(attestationDigestsFromIndex(raw, platforms), { "linux/amd64": d("c"), "linux/arm64": d("e") });
        });
        it("is empty without attestations or without an index", () => {
            assert.deepStrictEqual(attestationDigestsFromIndex(index([{ digest: d("a") }]), platforms), {});
            assert.deepStrictEqual(attestationDigestsFromIndex(Buffer.alloc(0), platforms), {});
        });
        it("refuses an attestation of an image that was not built, and two for one image", () => {
            assert.throws(
                () => attestationDigestsFromIndex(index([att(d("c"), d("f"))]), platforms),
                /refers to sha256:f+, which is not one of the built images/,
            );
            assert.throws(() => attestationDigestsFromIndex(index([att(d("c"), d("a")), att(d("e"), d("a"))]), platforms), /more than one attestation/);
        });
    });

    describe("rebuild hash of local named contexts", () => {
        it("changes with a file, not with an ignored file; undefined with none", async () => {
            const dir = fs.mkdtempSync(path.join(ctx, "named-"));
            fs.writeFileSync(path.join(dir, ".dockerignore"), "ignored.txt\n");
            fs.writeFileSync(path.join(dir, "a.txt"), "1\n");
            const contexts = [{ kind: "local" as const, name: "shared", dir }];
            const h1 = await hashLocalContexts(contexts);
            fs.writeFileSync(path.join(dir, "ignored.txt"), "x\n");
            assert.strictEqual(await hashLocalContexts(contexts), h1);
            fs.writeFileSync(path.join(dir, "a.txt"), "2\n");
            assert.notStrictEqual(await hashLocalContexts(contexts), h1);
            assert.strictEqual(await hashLocalContexts([{ kind: "value", name: "b", value: "target:x" }]), undefined);
        });
    });
});
