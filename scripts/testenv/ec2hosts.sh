# shellcheck shell=bash
# EC2 stand-in hosts ($EC2_HOSTS): a network namespace each (network.sh) with
# only an sshd: no buildkitd, no Docker engine of their own, no DOCKER_HOST.
# $EC2_USER logs in with the test client key (root may not, as on Amazon
# Linux). The tests play the VM's user-data and buildkitd units themselves
# (test/harness/ec2host.ts).
#
# The hosts share this machine's file system, except for /etc/buildkit and
# /run/buildkit: each sshd runs in a private mount namespace of its own
# (unshare --mount --propagation private) where those two are bind mounts of
# $RUN_DIR/HOST/etc-buildkit and $RUN_DIR/HOST/run-buildkit. Its sessions, and
# a buildkitd started with `nsenter -t SSHD_PID --net --mount`, see the host's
# own directories; this machine sees the (empty) mount points only.
#
# A host "boots" when its sshd starts: whatever still runs in its namespace is
# killed and its two directories are emptied. Never remove the directories
# themselves while the sshd runs: the bind mounts would keep the deleted ones.

EC2_MOUNTS_CREATED=$RUN_DIR/ec2-mountpoints-created # mount points up created

ec2_run_dir() { printf '%s\n' "$RUN_DIR/$1"; }
ec2_etc_buildkit() { printf '%s\n' "$RUN_DIR/$1/etc-buildkit"; }
ec2_run_buildkit() { printf '%s\n' "$RUN_DIR/$1/run-buildkit"; }
ec2_buildkitd_root() { printf '%s\n' "$NODES_DIR/$1/buildkitd"; }

# empty_dir DIR: remove DIR's contents, keep DIR (a bind-mount source).
empty_dir() {
  [[ -d $1 ]] || return 0
  find "$1" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
}

# The empty mount points /etc/buildkit and /run/buildkit on this machine.
ensure_ec2_mountpoints() {
  local d
  for d in /etc/buildkit /run/buildkit; do
    if [[ -e $d && ! -d $d ]]; then die "$d exists and is not a directory"; fi
    if [[ ! -d $d ]]; then
      mkdir -p "$d"
      grep -qxF "$d" "$EC2_MOUNTS_CREATED" 2>/dev/null || echo "$d" >>"$EC2_MOUNTS_CREATED"
    fi
  done
}

write_ec2_sshd_config() {
  local host=$1
  write_sshd_config_in "$(ec2_run_dir "$host")" "the EC2 stand-in $host" "${EC2_ADDR[$host]}" "$host" "" \
    "PermitRootLogin no
AllowUsers $EC2_USER"
}

ssh_to_ec2() {
  local host=$1
  shift
  ssh_as_ec2 "${EC2_ADDR[$host]}" "$@"
}

# "Boot" of a host whose sshd is not running: kill what is left in its
# namespace (a buildkitd a killed test left behind), empty its directories.
boot_ec2_host() {
  local host=$1 pids
  pids=$(ip netns pids "${EC2_NETNS[$host]}" 2>/dev/null || true)
  if [[ -n $pids ]]; then
    warn "processes left in ${EC2_NETNS[$host]}: $(echo "$pids" | paste -sd' '); killing them"
    echo "$pids" | xargs -r kill -KILL 2>/dev/null || true
    wait_for 10 test -z "$(ip netns pids "${EC2_NETNS[$host]}" 2>/dev/null)" ||
      die "processes in ${EC2_NETNS[$host]} did not exit"
  fi
  mkdir -p "$(ec2_etc_buildkit "$host")" "$(ec2_run_buildkit "$host")" "$(ec2_buildkitd_root "$host")"
  chmod 0755 "$(ec2_etc_buildkit "$host")" "$(ec2_run_buildkit "$host")"
  empty_dir "$(ec2_etc_buildkit "$host")"
  empty_dir "$(ec2_run_buildkit "$host")"
}

# The device:inode of /etc/buildkit and /run/buildkit as a session on HOST
# sees them must be those of the host's own directories.
ec2_mounts_ok() {
  local host=$1 want got
  want="$(stat -c %d:%i "$(ec2_etc_buildkit "$host")") $(stat -c %d:%i "$(ec2_run_buildkit "$host")")"
  got=$(ssh_to_ec2 "$host" 'stat -c %d:%i /etc/buildkit /run/buildkit' | paste -sd' ') || return 1
  [[ $got == "$want" ]]
}

start_ec2_sshd() {
  local host=$1 old pid cfg
  cfg=$(ec2_run_dir "$host")/sshd_config
  mkdir -p /run/sshd # privilege separation directory
  old=$(cat "$cfg" 2>/dev/null || true)
  write_ec2_sshd_config "$host"
  # The buildkitd config (registry CAs) for the tests' buildkitd on this host.
  write_buildkitd_config "$host"
  if pid=$(pid_of "sshd-$host" sshd); then
    if [[ $old != "$(<"$cfg")" ]]; then
      info "sshd-$host: config changed, reloading (HUP)"
      kill -HUP "$pid" # sshd re-execs itself: same pid, same mount namespace
    fi
  else
    boot_ec2_host "$host"
  fi
  # shellcheck disable=SC2016 # $1..$4 are the inner shell's
  start_daemon "sshd-$host" sshd \
    nsenter --net="/var/run/netns/${EC2_NETNS[$host]}" \
    unshare --mount --propagation private \
    /bin/sh -c 'mount --bind "$1" /etc/buildkit && mount --bind "$2" /run/buildkit && exec "$3" -D -e -f "$4"' \
    sh "$(ec2_etc_buildkit "$host")" "$(ec2_run_buildkit "$host")" "$SSHD_BIN" "$cfg"
  wait_daemon "sshd-$host" sshd 20 ssh_to_ec2 "$host" true
}

# Up's check of a host, in one ssh session: /etc/buildkit and /run/buildkit
# are the host's own directories, sudo -n works and finds buildctl, the user
# is in $DOCKER_GROUP, and a file written with sudo into /etc/buildkit lands
# in the host's directory only (not this machine's, not another host's).
check_ec2_host() {
  local host=$1 other probe=.testenv-probe token out want
  token=$(openssl rand -hex 8) # hex: safe in the remote command line
  out=$(ssh_to_ec2 "$host" "stat -c %d:%i /etc/buildkit /run/buildkit && sudo -n id -u && id -nG &&
    sudo -n sh -c 'command -v buildctl' && printf %s $token | sudo -n tee /etc/buildkit/$probe >/dev/null") ||
    die "ssh $EC2_USER@${EC2_ADDR[$host]}: the check failed (sudo -n?)"
  out=$(paste -sd' ' <<<"$out")
  want="$(stat -c %d:%i "$(ec2_etc_buildkit "$host")") $(stat -c %d:%i "$(ec2_run_buildkit "$host")") 0 "
  [[ $out == "$want"* ]] ||
    die "$host: /etc/buildkit and /run/buildkit are not $(ec2_run_dir "$host")/{etc,run}-buildkit in its sessions, or sudo -n id -u is not 0 ($out)"
  [[ $out == *" $DOCKER_GROUP "* ]] || die "$host: $EC2_USER is not in $DOCKER_GROUP ($out)"
  [[ $out == *" $BIN_DIR/buildctl" ]] || die "$host: sudo does not find $BIN_DIR/buildctl ($out)"
  [[ "$(cat "$(ec2_etc_buildkit "$host")/$probe" 2>/dev/null)" == "$token" ]] ||
    die "a file written to /etc/buildkit on $host did not land in $(ec2_etc_buildkit "$host")"
  [[ ! -e /etc/buildkit/$probe ]] || die "a file written to /etc/buildkit on $host landed in this machine's /etc/buildkit"
  for other in "${EC2_HOSTS[@]}"; do
    [[ $other == "$host" || ! -e $(ec2_etc_buildkit "$other")/$probe ]] ||
      die "a file written to /etc/buildkit on $host is visible on $other"
  done
  rm -f "$(ec2_etc_buildkit "$host")/$probe"
}

setup_ec2_hosts() {
  local host
  ensure_ec2_mountpoints
  for host in "${EC2_HOSTS[@]}"; do
    start_ec2_sshd "$host"
    check_ec2_host "$host"
  done
  info "${EC2_HOSTS[*]}: $EC2_USER logs in, sudo -n works, /etc/buildkit and /run/buildkit are per host"
}

stop_ec2_hosts() {
  local host
  for host in "${EC2_HOSTS[@]}"; do
    stop_daemon "sshd-$host" sshd 10
    # The mount namespace goes with its last process; teardown_network kills
    # whatever the tests left in the network namespace.
    empty_dir "$(ec2_etc_buildkit "$host")"
    empty_dir "$(ec2_run_buildkit "$host")"
  done
}

# After teardown_network (no process of a host left): the mount points up made.
remove_ec2_mountpoints() {
  local d
  [[ -s $EC2_MOUNTS_CREATED ]] || return 0
  while read -r d; do
    rmdir "$d" 2>/dev/null || warn "$d not removed (not empty?)"
  done <"$EC2_MOUNTS_CREATED"
  rm -f "$EC2_MOUNTS_CREATED"
}

status_ec2_hosts() {
  local host
  report "user $EC2_USER (groups $(id -nG "$EC2_USER" 2>/dev/null), sudo $EC2_SUDOERS)" ec2_user_ok
  report "engine sockets group $DOCKER_GROUP" engine_sockets_grouped
  for host in "${EC2_HOSTS[@]}"; do
    report "netns ${EC2_NETNS[$host]} (${EC2_ADDR[$host]})" netns_exists "${EC2_NETNS[$host]}"
    report "$(daemon_line "sshd-$host" sshd) ssh $EC2_USER@${EC2_ADDR[$host]} + sudo" \
      ssh_to_ec2 "$host" sudo -n true
    report "$host: private /etc/buildkit, /run/buildkit ($(ec2_run_dir "$host")/{etc,run}-buildkit)" \
      ec2_mounts_ok "$host"
  done
}

engine_sockets_grouped() {
  local sock node socks=("$DOCKER_SOCK")
  for node in "${NODE_DOCKER_NODES[@]}"; do socks+=("$(node_docker_sock "$node")"); done
  for sock in "${socks[@]}"; do
    [[ "$(stat -c %G "$sock" 2>/dev/null)" == "$DOCKER_GROUP" ]] || return 1
  done
}

ec2_host_json() {
  local host=$1
  jq -n \
    --arg name "$host" --arg netns "${EC2_NETNS[$host]}" --arg address "${EC2_ADDR[$host]}" \
    --argjson sshdPid "$(pid_of "sshd-$host" sshd)" \
    --arg etc "$(ec2_etc_buildkit "$host")" --arg run "$(ec2_run_buildkit "$host")" \
    --arg runDir "$(ec2_run_dir "$host")" \
    --arg user "$EC2_USER" --arg sshkey "$(ssh_key)" --arg knownHosts "$(ssh_known_hosts)" \
    --arg sshConfig "$(ssh_client_config)" \
    --arg bkConfig "$(ec2_run_dir "$host")/buildkitd.toml" --arg bkRoot "$(ec2_buildkitd_root "$host")" \
    --arg bkLog "$RUN_DIR/logs/buildkitd-$host.log" --arg path "$DAEMON_PATH" \
    --argjson port "$BUILDKITD_PORT" \
    '{
      name: $name, netns: $netns, address: $address, sshdPid: $sshdPid,
      etcBuildkit: $etc, runBuildkit: $run, runDir: $runDir,
      ssh: { host: $address, port: 22, user: $user, privateKey: $sshkey,
             knownHosts: $knownHosts, config: $sshConfig },
      buildkitd: { config: $bkConfig, root: $bkRoot, log: $bkLog, path: $path, port: $port }
    }'
}

# Adds ec2User and ec2Hosts to $ENV_JSON. Runs after write_env_files.
add_ec2_env() {
  local host hosts="[]" tmp=$ENV_JSON.tmp
  for host in "${EC2_HOSTS[@]}"; do
    hosts=$(jq --argjson h "$(ec2_host_json "$host")" '. + [$h]' <<<"$hosts")
  done
  jq --arg user "$EC2_USER" --argjson hosts "$hosts" '. + { ec2User: $user, ec2Hosts: $hosts }' \
    "$ENV_JSON" >"$tmp"
  chmod 0600 "$tmp"
  mv "$tmp" "$ENV_JSON"
  info "env.json: ec2User $EC2_USER, ec2Hosts ${EC2_HOSTS[*]}"
}
