/**
 * Points the selected stack of the default program at the test environment's local images (base,
 * Go toolchain, binfmt installer, BuildKit), for machines that cannot reach Docker Hub: builds the
 * installer image into the local engine (no pulls), then `pulumi config set`s each value, given on
 * stdin so that multi-line values stay intact and nothing lands on a command line. The tests use the
 * same fixture. Used by scripts/default-program.sh.
 */
import { execFileSync } from "child_process";
import { buildInstallerImage } from "../../test/fixtures/binfmt/image";
import { INSTALLER_IMAGE, programConfig } from "../../test/fixtures/default-program";
import { loadTestEnv } from "../../test/harness/testenv";

const env = loadTestEnv();
buildInstallerImage(INSTALLER_IMAGE);
for (const [key, value] of Object.entries(programConfig(env, INSTALLER_IMAGE))) {
    execFileSync("pulumi", ["config", "set", key, "--non-interactive"], { input: value, stdio: ["pipe", "inherit", "inherit"] });
}
