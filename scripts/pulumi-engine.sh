#!/usr/bin/env bash
# Builds the real Pulumi CLI from the Go module proxy, with the two plugins the default program
# needs, and caches them on disk keyed by version.
#
#   scripts/pulumi-engine.sh build     build (or reuse) the binaries; prints the bin dir last
#   scripts/pulumi-engine.sh path      print the bin dir (non-zero exit if not built yet)
#   scripts/pulumi-engine.sh env       print `export` lines: eval "$(scripts/pulumi-engine.sh env)"
#   scripts/pulumi-engine.sh plugins   install the command provider into $PULUMI_HOME's plugin cache
#                                      (`pulumi plugin install resource command V --file ...`)
#   scripts/pulumi-engine.sh info      print the build record (versions, timings, sizes)
#   scripts/pulumi-engine.sh clean     remove the module/build caches (keeps the binaries)
#
# What is built:
#   pulumi                   github.com/pulumi/pulumi/pkg/v3/cmd/pulumi @ @pulumi/pulumi's version,
#                            from the Go module proxy
#   pulumi-language-nodejs   the real upstream language host, from a copy of
#                            ../shared/vendor/pulumi-language-nodejs (its README gives tag and commit)
#   pulumi-resource-command  the real upstream command provider, from a copy of
#                            ../shared/vendor/pulumi-command, reporting @pulumi/command's version
# The proxy does not serve the two plugin modules, so their upstream sources are kept outside this
# repository (third-party code: never copied into it). If that folder is missing, the build fails
# and names it; there is no fallback to anything else.
#
# Layout: $DEST/bin holds pulumi and pulumi-language-nodejs (the CLI finds the bundled language
# host next to itself); $DEST/plugins holds pulumi-resource-command, which is NOT put on PATH: it is
# installed into the plugin cache like a downloaded provider (`plugins` below), so the engine
# loads it as it would for a user, with no "using ... from $PATH" warning.
#
# The pkg module has `replace github.com/pulumi/pulumi/sdk/v3 => ../sdk`, so `go install pkg@v`
# refuses it: we download pkg and sdk with `go mod download`, copy them side by side into a
# writable work dir (pkg/ and sdk/, as in the pulumi repository) and `go build` there.
#
# Environment:
#   PULUMI_ENGINE_CACHE     cache root (default /var/lib/pulumi-buildx-engine)
#   PULUMI_ENGINE_VERSION   CLI version (default: node_modules/@pulumi/pulumi/package.json)
#   COMMAND_PROVIDER_VERSION  (default: node_modules/@pulumi/command/package.json)
#   PULUMI_PLUGIN_SOURCES   the upstream plugin sources (default: ../shared/vendor beside the repo)
#   PULUMI_ENGINE_KEEP_GO_CACHE=1  keep GOMODCACHE/GOCACHE after a successful build
#   GO                      the go binary (default: go on PATH, else /usr/local/go/bin/go)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${PULUMI_ENGINE_CACHE:-/var/lib/pulumi-buildx-engine}"

log() { echo "[pulumi-engine] $*" >&2; }
die() { echo "[pulumi-engine] error: $*" >&2; exit 1; }

npm_version() {
  local pkg="$1"
  node -e 'process.stdout.write(require(process.argv[1]).version)' "$ROOT/node_modules/$pkg/package.json" 2>/dev/null \
    || die "node_modules/$pkg is missing: run npm ci first"
}

find_go() {
  if [[ -n "${GO:-}" ]]; then echo "$GO"; return; fi
  if command -v go >/dev/null 2>&1; then command -v go; return; fi
  if [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go; return; fi
  die "no Go toolchain (set GO=/path/to/go)"
}

PULUMI_VERSION="${PULUMI_ENGINE_VERSION:-$(npm_version @pulumi/pulumi)}"
PULUMI_VERSION="${PULUMI_VERSION#v}"
COMMAND_VERSION="${COMMAND_PROVIDER_VERSION:-$(npm_version @pulumi/command)}"
COMMAND_VERSION="${COMMAND_VERSION#v}"
VENDOR="${PULUMI_PLUGIN_SOURCES:-$ROOT/../shared/vendor}"
LANG_SRC="$VENDOR/pulumi-language-nodejs"
CMD_SRC="$VENDOR/pulumi-command"
# The version of the upstream language host kept there (its go.mod requires the pkg/sdk it was tagged with).
LANG_VERSION=""
if [[ -f "$LANG_SRC/go.mod" ]]; then
  LANG_VERSION="$(sed -n 's|^\tgithub.com/pulumi/pulumi/sdk/v3 v\([0-9.]*\)$|\1|p' "$LANG_SRC/go.mod")"
fi
# The plugin sources are part of the key, so a new copy of them rebuilds the plugins.
SRC_HASH="none"
if [[ -d "$LANG_SRC" && -d "$CMD_SRC" ]]; then
  SRC_HASH="$(cd "$VENDOR" && find pulumi-language-nodejs pulumi-command -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -c1-12)"
fi
KEY="pulumi-v${PULUMI_VERSION}_nodejs-v${LANG_VERSION}_command-v${COMMAND_VERSION}_src-${SRC_HASH}"
DEST="$CACHE/$KEY"
BIN="$DEST/bin"
PLUGINS="$DEST/plugins"

# The cache key names the plugin sources, so without them nothing can be built or found.
[[ -d "$LANG_SRC" && -d "$CMD_SRC/provider" ]] \
  || die "the upstream plugin sources are missing: $VENDOR must hold pulumi-language-nodejs/ and pulumi-command/ (see its README.md; set PULUMI_PLUGIN_SOURCES to use another copy). There is no fallback."
[[ -n "$LANG_VERSION" ]] || die "cannot read the pulumi sdk version from $LANG_SRC/go.mod"

built() { [[ -x "$BIN/pulumi" && -x "$BIN/pulumi-language-nodejs" && -x "$PLUGINS/pulumi-resource-command" && -f "$DEST/build.json" ]]; }

now() { date +%s; }

build() {
  if built; then
    log "cached: $BIN"
    echo "$BIN"
    return
  fi
  local go; go="$(find_go)"
  mkdir -p "$CACHE"
  exec 9>"$CACHE/.lock"
  flock 9
  if built; then echo "$BIN"; return; fi

  export GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOFLAGS="-mod=mod" GOTOOLCHAIN=local
  export GOPROXY="${GOPROXY:-https://proxy.golang.org}"
  local work="$CACHE/work/$KEY"
  rm -rf "$work" "$DEST.tmp"
  mkdir -p "$work" "$DEST.tmp/bin" "$DEST.tmp/plugins"
  local out="$DEST.tmp/bin" plugout="$DEST.tmp/plugins"
  log "Go: $("$go" version)"
  log "building pulumi v$PULUMI_VERSION, language host v$LANG_VERSION and command provider v$COMMAND_VERSION (upstream sources from $VENDOR) into $DEST"

  # 1. download
  local t0; t0=$(now)
  local pkgdir sdkdir
  pkgdir="$("$go" mod download -json "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  sdkdir="$("$go" mod download -json "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$pkgdir" && -d "$sdkdir" ]] || die "go mod download of pkg/sdk v$PULUMI_VERSION failed"
  cp -r "$pkgdir" "$work/pkg"
  cp -r "$sdkdir" "$work/sdk"
  chmod -R u+w "$work"
  (cd "$work/pkg" && "$go" mod download)
  # The plugins from a writable copy of the upstream sources (the folder is read-only in CI).
  cp -r "$LANG_SRC" "$work/pulumi-language-nodejs"
  cp -r "$CMD_SRC" "$work/pulumi-command"
  chmod -R u+w "$work/pulumi-language-nodejs" "$work/pulumi-command"
  (cd "$work/pulumi-language-nodejs" && "$go" mod download)
  (cd "$work/pulumi-command/provider" && "$go" mod download)
  local t1; t1=$(now)

  # 2. build
  local ld="-s -w"
  (cd "$work/pkg" && nice "$go" build -trimpath \
      -ldflags "$ld -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
      -o "$out/pulumi" ./cmd/pulumi)
  local t2; t2=$(now)
  (cd "$work/pulumi-language-nodejs" && nice "$go" build -trimpath \
      -ldflags "$ld -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$LANG_VERSION" \
      -o "$out/pulumi-language-nodejs" .)
  (cd "$work/pulumi-command/provider" && nice "$go" build -trimpath \
      -ldflags "$ld -X github.com/pulumi/pulumi-command/provider/pkg/version.Version=$COMMAND_VERSION" \
      -o "$plugout/pulumi-resource-command" ./cmd/pulumi-resource-command)
  local t3; t3=$(now)

  "$out/pulumi" version >/dev/null || die "the built pulumi does not run"
  # The engine matches the provider to @pulumi/command by the version the provider reports itself.
  local reported
  reported="$(PULUMI_HOME="$work/pulumi-home" PULUMI_SKIP_UPDATE_CHECK=true "$out/pulumi" package get-schema "$plugout/pulumi-resource-command" \
    | node -e 'let s="";process.stdin.on("data",(d)=>s+=d).on("end",()=>process.stdout.write(String(JSON.parse(s).version)))')" \
    || die "the built pulumi-resource-command does not serve its schema"
  [[ "$reported" == "$COMMAND_VERSION" ]] || die "pulumi-resource-command reports version '$reported', not $COMMAND_VERSION"
  local size_cli size_lang size_cmd
  size_cli=$(stat -c %s "$out/pulumi"); size_lang=$(stat -c %s "$out/pulumi-language-nodejs"); size_cmd=$(stat -c %s "$plugout/pulumi-resource-command")
  cat >"$DEST.tmp/build.json" <<EOF
{
  "key": "$KEY",
  "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "go": "$("$go" env GOVERSION)",
  "pulumi": {"version": "v$PULUMI_VERSION", "module": "github.com/pulumi/pulumi/pkg/v3", "bytes": $size_cli},
  "pulumi-language-nodejs": {"version": "v$LANG_VERSION", "source": "upstream", "from": "$(readlink -f "$LANG_SRC")", "bytes": $size_lang},
  "pulumi-resource-command": {"version": "v$COMMAND_VERSION", "source": "upstream", "from": "$(readlink -f "$CMD_SRC")", "reports": "$reported", "bytes": $size_cmd},
  "seconds": {"download": $((t1 - t0)), "buildCli": $((t2 - t1)), "buildPlugins": $((t3 - t2)), "total": $((t3 - t0))},
  "cores": $(nproc)
}
EOF
  rm -rf "$DEST"
  mv "$DEST.tmp" "$DEST"
  rm -rf "$work"
  rmdir "$CACHE/work" 2>/dev/null || true
  if [[ "${PULUMI_ENGINE_KEEP_GO_CACHE:-0}" != 1 ]]; then
    log "removing the Go module and build caches ($(du -sh "$CACHE/go" 2>/dev/null | cut -f1))"
    chmod -R u+w "$CACHE/go" 2>/dev/null || true
    rm -rf "$CACHE/go"
  fi
  log "done in $((t3 - t0))s (download $((t1 - t0))s, CLI $((t2 - t1))s, plugins $((t3 - t2))s)"
  cat "$DEST/build.json" >&2
  echo "$BIN"
}

case "${1:-build}" in
  build) build ;;
  path) built || die "not built: run scripts/pulumi-engine.sh build"; echo "$BIN" ;;
  env)
    built || die "not built: run scripts/pulumi-engine.sh build"
    cat <<EOF
export PATH="$BIN:\$PATH"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK=true
export PULUMI_DISABLE_REGISTRY_RESOLVE=true
export PULUMI_DIY_BACKEND_NO_LEGACY_WARNING=true
unset PULUMI_IGNORE_AMBIENT_PLUGINS
EOF
    ;;
  plugins)
    built || die "not built: run scripts/pulumi-engine.sh build"
    "$BIN/pulumi" plugin install resource command "$COMMAND_VERSION" --file "$PLUGINS/pulumi-resource-command" >&2
    ;;
  provider) built || die "not built"; echo "$PLUGINS/pulumi-resource-command" ;;
  info) built || die "not built: run scripts/pulumi-engine.sh build"; cat "$DEST/build.json" ;;
  clean) chmod -R u+w "$CACHE/go" 2>/dev/null || true; rm -rf "$CACHE/go" "$CACHE/work" ;;
  *) die "usage: $0 [build|path|env|plugins|provider|info|clean]" ;;
esac
