#!/usr/bin/env bash
# The consumer test: pulumi-buildx as a package in someone else's infra repo.
#   1. `npm pack` (its prepack rebuilds dist/ from scratch: a stale file there must not ship), then install the tarball into a fresh temporary project with the newest
#      @pulumi/pulumi this Node can run (its `engines.node`; CONSUMER_PULUMI_VERSION overrides);
#   2. exactly one @pulumi/pulumi in node_modules, and no @pulumi/aws or @pulumi/tls;
#   3. type-check a QEMU-only program (test/consumer/qemu.ts) and run it under Pulumi's echo mocks
#      and under pulumi-buildx/testing; type-check the README's quick start and withEphemeralBuilder
#      script; a context-hash worker thread hashes from the shipped compiled file;
#   4. install @pulumi/aws and @pulumi/tls on purpose: still one SDK, the root still loads
#      neither, and an EC2 program from pulumi-buildx/aws (test/consumer/ec2.ts) type-checks
#      (node10 and node16 module resolution) and runs under both mocks;
#      and the README's "Testing your program" example (program and mocha test) passes as written;
#      the shipped host-key reader runs from node_modules against the stand-in EC2 API;
#   5. the shipped source maps point to shipped files.
# Prints `consumer: N passed, N failed` last; exits non-zero when a check failed.
# Needs the npm registry; the temporary project is removed afterwards (KEEP=1 keeps it).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PASSED=0 FAILED=0
check() {
    local name="$1"; shift
    if "$@"; then echo "ok   $name"; PASSED=$((PASSED + 1)); else echo "FAIL $name"; FAILED=$((FAILED + 1)); fi
}
summary() { echo "consumer: $PASSED passed, $FAILED failed"; }

work="$(mktemp -d "${TMPDIR:-/tmp}/pulumi-buildx-consumer.XXXXXX")"
cleanup() {
    local rc=$?
    if [ "$rc" -ne 0 ] && [ "$FAILED" -eq 0 ]; then echo "FAIL stopped (exit $rc) before every check ran"; FAILED=1; fi
    summary
    if [ "${KEEP:-}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
npm_quiet() { npm --no-audit --no-fund --loglevel=error "$@"; }

# 1. The tarball, and a fresh project on the newest usable SDK.
floor="$(node -p 'require("./package.json").peerDependencies["@pulumi/pulumi"].split(" ")[0].replace(">=", "")')"
pulumi_version="${CONSUMER_PULUMI_VERSION:-$(npm view "@pulumi/pulumi@>=$floor <4" version engines.node --json | node scripts/consumer/newest-pulumi.js)}"
echo "consumer: @pulumi/pulumi $pulumi_version on Node $(node --version)"
# A file an old build left in dist/ must not ship: `npm pack` rebuilds dist/ from scratch (prepack).
stale="dist/stale-$$.js"
mkdir -p dist && echo "// left by an old build" > "$stale"
tarball="$work/$(npm pack --silent --pack-destination "$work" | tail -n 1)"
shipped_stale() { tar -tzf "$tarball" | grep -qxF "package/$stale"; }
check "npm pack rebuilds dist/: nothing an old build left ships" test ! -e "$stale" -a -f dist/index.js
check "the tarball holds no stale file from an old dist/" eval '! shipped_stale'
rm -f "$stale"
project="$work/project"
mkdir -p "$project/app"
cp test/consumer/*.ts "$project/"
printf 'FROM scratch\n' > "$project/app/Dockerfile"
cat > "$project/package.json" <<'JSON'
{ "name": "consumer", "private": true }
JSON
cd "$project"
npm_quiet install "$tarball" "@pulumi/pulumi@$pulumi_version" typescript@~5.9 @types/node@20

# 2. One SDK; no AWS.
sdk_copies() { find node_modules -type d -path '*node_modules/@pulumi/pulumi' | wc -l; }
check "exactly one @pulumi/pulumi in node_modules ($(sdk_copies))" test "$(sdk_copies)" -eq 1
check "no @pulumi/aws or @pulumi/tls without the EC2 subpath" test -z "$(find node_modules -type d \( -path '*node_modules/@pulumi/aws' -o -path '*node_modules/@pulumi/tls' \))"
echo "consumer: QEMU-only node_modules $(du -sh node_modules | cut -f1)"

# tsconfig as the Pulumi TypeScript template has it (node10 resolution), per program.
tsconfig() { # NAME RESOLUTION FILES...
    local name="$1" resolution="$2"; shift 2
    local module=commonjs files
    [ "$resolution" = node ] || module="$resolution"
    files="$(printf '"%s",' "$@")"
    printf '{"compilerOptions":{"strict":true,"target":"es2020","module":"%s","moduleResolution":"%s","outDir":"bin","skipLibCheck":false,"types":["node"]},"files":[%s]}\n' \
        "$module" "$resolution" "${files%,}" > "tsconfig.$name.json"
}
typecheck() { npx tsc -p "tsconfig.$1.json" --noEmit; }
readme_block() { node "$ROOT/scripts/consumer/readme-block.js" "$ROOT/README.md" "$1"; }
run() { node "bin/run-$1.js" "$2"; }

# 3. The QEMU-only program.
tsconfig qemu node qemu.ts
tsconfig qemu-run node run-qemu.ts
check "the QEMU-only program type-checks against the package root" typecheck qemu
echo "consumer: QEMU-only type-check reads $(npx tsc -p tsconfig.qemu.json --noEmit --listFiles | grep -c '\.ts$') files"
readme_root_examples() { readme_block 'for two platforms on this machine' > quickstart.ts && readme_block 'A complete script' > ephemeral.ts; }
check "the README has the quick start and the withEphemeralBuilder script" readme_root_examples
tsconfig readme-root node quickstart.ts ephemeral.ts
check "the README's quick start and withEphemeralBuilder script type-check with the root alone" typecheck readme-root
check "the QEMU runner compiles" npx tsc -p tsconfig.qemu-run.json
check "the QEMU-only program settles under Pulumi's echo mocks" run qemu echo
check "the QEMU-only program gets plausible outputs under pulumi-buildx/testing" run qemu testing

# The context-hash worker thread runs from the shipped, compiled file.
worker_from_dist() {
    head -c 8388608 /dev/urandom > big.bin
    node -e '
const path = require("path");
const w = require(path.resolve("node_modules/pulumi-buildx/dist/image/context-hash-worker.js"));
if (w.workerEntry() !== path.resolve("node_modules/pulumi-buildx/dist/image/context-hash-thread.js")) process.exit(1);
const pool = new w.FileHashPool(1);
(async () => {
    await pool.warmUp();
    for (let i = 0; i < 8; i++) pool.submit({ paths: [path.resolve("big.bin")], done: () => undefined });
    await pool.drain();
    const ok = pool.workersStarted === 1 && pool.workerBatches > 0;
    await pool.close();
    process.exit(ok ? 0 : 1);
})();'
}
check "the context-hash worker thread runs from the shipped dist/image/context-hash-thread.js" worker_from_dist

# Without its peers, the EC2 subpath says which are missing and how to install them.
aws_without_peers() {
    local out
    if out="$(node -e 'require("pulumi-buildx/aws")' 2>&1)"; then return 1; fi
    grep -qF 'pulumi-buildx/aws needs @pulumi/aws and @pulumi/tls' <<< "$out" && grep -qF 'npm install @pulumi/aws @pulumi/tls @aws-sdk/client-ec2' <<< "$out"
}
check "pulumi-buildx/aws without its peers names them and the npm install line" aws_without_peers

# 4. The EC2 subpath, installed on purpose, as README says: all three peers.
npm_quiet install @pulumi/aws @pulumi/tls @aws-sdk/client-ec2
check "still exactly one @pulumi/pulumi with @pulumi/aws and @pulumi/tls ($(sdk_copies))" test "$(sdk_copies)" -eq 1
root_loads() { node -e 'require("pulumi-buildx"); process.exit(Object.keys(require.cache).some((f) => /node_modules\/@pulumi\/(aws|tls)\//.test(f)) ? 1 : 0)'; }
check "importing pulumi-buildx loads neither @pulumi/aws nor @pulumi/tls" root_loads
tsconfig ec2 node ec2.ts
tsconfig ec2-node16 node16 ec2.ts
tsconfig ec2-run node run-ec2.ts
check "the EC2 program type-checks (node10 resolution: typesVersions)" typecheck ec2
check "the EC2 program type-checks (node16 resolution: exports)" typecheck ec2-node16
check "the EC2 runner compiles" npx tsc -p tsconfig.ec2-run.json
check "the EC2 program settles under Pulumi's echo mocks" run ec2 echo
check "the EC2 program gets plausible outputs under pulumi-buildx/testing" run ec2 testing
shipped_reader() { (cd "$ROOT" && node -r ts-node/register/transpile-only scripts/consumer/host-key-reader.ts "$project"); }
check "the shipped host-key reader reads the key from the (stand-in) EC2 console with the consumer's @aws-sdk/client-ec2" shipped_reader

# The README's "Testing your program" example, exactly as written: its program and its mocha test.
mkdir -p readme/test
readme_example() { readme_block 'that runs the arm64 image on Fargate' > readme/index.ts && readme_block 'and its test (' > readme/test/index.test.ts; }
check "the README has the testing example (program and test)" readme_example
npm_quiet install mocha @types/mocha
printf '{"compilerOptions":{"strict":true,"target":"es2020","module":"commonjs","moduleResolution":"node","rootDir":"readme","outDir":"bin-readme","types":["node","mocha"]},"files":["readme/index.ts","readme/test/index.test.ts"]}\n' > tsconfig.readme.json
check "the README's testing example type-checks" npx tsc -p tsconfig.readme.json
check "the README's testing example passes" npx mocha bin-readme/test/index.test.js
# ... and as README says to run it: ts-node, the template's tsconfig.json (with the types line README mentions).
npm_quiet install ts-node
printf '{"compilerOptions":{"strict":true,"outDir":"bin","target":"es2020","module":"commonjs","moduleResolution":"node","sourceMap":true,"types":["node","mocha"]}}\n' > tsconfig.json
readme_command() { npx mocha -r ts-node/register --timeout 20000 readme/test/index.test.ts; }
check "the README's testing example passes with README's own command (mocha -r ts-node/register)" readme_command

# 5. Source maps point to shipped files.
maps_resolve() { node "$ROOT/scripts/consumer/maps-resolve.js"; }
check "every shipped source map points to a shipped source file" maps_resolve
[ "$FAILED" -eq 0 ]
