import * as assert from "assert";
import { execFileSync } from "child_process";
import { BuildPlanInput, planBuild } from "../../../src/image/plan";
import { planInput as input } from "./plan-input";
import { renderScript } from "../../../src/shell";
import { expectGolden } from "../../harness/golden";

const golden = (name: string, actual: string): void => expectGolden(name, actual);

describe("build plan", () => {
    const variants: [string, Partial<BuildPlanInput>][] = [
        ["push.sh", {}],
        [
            "everything.sh",
            {
                builder: "fleet",
                target: "runtime",
                buildArgs: { VERSION: "1.2 beta", QUOTE: "it's" },
                labels: { "org.opencontainers.image.source": "https://example.com/x" },
                annotations: { "index:org.opencontainers.image.description": "multi" },
                secretIds: ["NPM_TOKEN"],
                registryPasswordCommands: [undefined, "aws ecr get-login-password --region eu-west-1"],
                cacheFrom: [
                    { type: "registry", ref: "10.0.0.1:5000/team/app:cache" },
                    { type: "local", src: "/proj/.cache" },
                ],
                cacheTo: [
                    { type: "inline" },
                    { type: "local", dest: "/proj/.cache", mode: "max" },
                    {
                        type: "registry",
                        ref: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:cache",
                        mode: "max",
                        imageManifest: true,
                        ociMediatypes: true,
                        compression: "zstd",
                        ignoreError: true,
                    },
                ],
                network: "host",
                addHosts: { db: "10.0.0.9" },
                noCache: true,
                pull: true,
                provenance: false,
                sbom: true,
            },
        ],
        ["oci.sh", { tags: [], push: false, output: { type: "oci", dest: "/proj/out/layout" } }],
        ["inline.sh", { dockerfile: undefined, dockerfileInline: "FROM scratch\n" }],
    ];
    for (const [name, patch] of variants) {
        it(`matches golden/${name} and passes bash -n`, () => {
            const script = renderScript(planBuild(input(patch)));
            golden(name, script);
            execFileSync("bash", ["-n", "-c", script]);
        });
    }

    it("names secrets and registry passwords only as environment variables", () => {
        const plan = planBuild(input({ secretIds: ["NPM_TOKEN"], registryPasswordCommands: [undefined] }));
        assert.deepStrictEqual(plan.env, {
            PULUMI_BUILDX_SECRET_NPM_TOKEN: "secrets.NPM_TOKEN",
            PULUMI_BUILDX_REGISTRY_0_ADDRESS: "registries[0].address",
            PULUMI_BUILDX_REGISTRY_0_USERNAME: "registries[0].username",
            PULUMI_BUILDX_REGISTRY_0_PASSWORD: "registries[0].password",
        });
        const script = renderScript(plan);
        assert.match(script, /--secret id=NPM_TOKEN,env=PULUMI_BUILDX_SECRET_NPM_TOKEN/);
        assert.match(
            script,
            /printf '%s' "\$\{PULUMI_BUILDX_REGISTRY_0_PASSWORD\}" \| docker login --username "\$\{PULUMI_BUILDX_REGISTRY_0_USERNAME\}" --password-stdin/,
        );
    });

    it("uses paths relative to the project so the script is the same on every checkout", () => {
        const a = renderScript(planBuild(input()));
        const b = renderScript(planBuild(input({ context: "/other/app", dockerfile: "/other/app/Dockerfile", cwd: "/other" })));
        assert.strictEqual(a, b);
    });
});
