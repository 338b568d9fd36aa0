/**
 * A `{ env }` build secret names a variable of the machine running Pulumi. The build script must
 * not set one of that name itself: an inherited (exported) variable that the script assigns is
 * what buildx would then read. Every variable the image scripts assign must be refused as a
 * secret's `env`, so this reads them off the golden scripts.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { secretEnvProblem } from "../../../src/image/build-sources-validate";

const GOLDEN = path.join(__dirname, "..", "..", "golden");
/** The goldens of scripts that run `docker buildx build` or the merge (a secret's env reaches them), and the guard that runs each. */
const IMAGE_SCRIPTS = [
    "guard.sh",
    "push.sh",
    "oci.sh",
    "inline.sh",
    "everything.sh",
    "local.sh",
    "tar.sh",
    "load.sh",
    "sources.sh",
    "per-platform-build.sh",
    "merge.sh",
];

/** Names a bash script assigns: `x=`, `export x=`, `local x=`, `read -r x`, `for x in`, at the start of a command. */
function assignedVariables(script: string): string[] {
    const names = new Set<string>();
    const start = String.raw`(?:^|[;&|({]\s*|\b(?:then|do|else|if|while|until)\s+)(?:!\s+)?`;
    for (const m of script.matchAll(new RegExp(`${start}(?:export\\s+|local\\s+|readonly\\s+)?([A-Za-z_][A-Za-z0-9_]*)=`, "gm"))) names.add(m[1]);
    for (const m of script.matchAll(/\bread\s+(?:-r\s+)?([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(m[1]);
    for (const m of script.matchAll(/\bfor\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\b/g)) names.add(m[1]);
    return [...names].sort();
}

describe("variables the image scripts set are refused as a secret's env", () => {
    it("finds assignments, also after `!` and inside `if`", () => {
        assert.deepStrictEqual(
            assignedVariables('a=1\nif ! b="$(x)"; then :; fi\nexport C=2\nwhile read -r f; do :; done\nfor d in 1; do e=3; done\necho type=local\n'),
            ["C", "a", "b", "d", "e", "f"],
        );
    });

    for (const name of IMAGE_SCRIPTS) {
        it(`golden/${name}`, () => {
            const script = fs.readFileSync(path.join(GOLDEN, name), "utf8");
            const vars = assignedVariables(script);
            assert.ok(vars.includes(name === "guard.sh" ? "run" : "work"), `not the variables expected in ${name}: ${vars}`);
            const accepted = vars.filter((v) => secretEnvProblem(v) === undefined);
            assert.deepStrictEqual(accepted, [], `${name} sets these, yet a secret's env may name them`);
        });
    }
});
