# shellcheck shell=bash
# Test PKI (openssl): one CA, the registries' server certificate, one
# buildkitd server certificate per node and one client certificate for
# buildkitd mTLS. Generated once under $PKI_DIR and reused; a certificate that
# no longer verifies against the CA is issued again.

SYSTEM_CA_FILE=/usr/local/share/ca-certificates/pulumi-buildx-testenv.crt

make_ca() {
  if [[ -s $PKI_DIR/ca.pem && -s $PKI_DIR/ca-key.pem ]]; then
    info "CA exists: $PKI_DIR/ca.pem"
    return 0
  fi
  info "creating test CA"
  openssl genrsa -out "$PKI_DIR/ca-key.pem" 2048 2>/dev/null
  chmod 0600 "$PKI_DIR/ca-key.pem"
  cat >"$PKI_DIR/ca.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = pulumi-buildx test CA
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
EOF
  openssl req -x509 -new -key "$PKI_DIR/ca-key.pem" -sha256 -days 3650 \
    -config "$PKI_DIR/ca.cnf" -extensions v3_ca -out "$PKI_DIR/ca.pem"
}

# issue_cert NAME CN EKU [SAN]: $PKI_DIR/NAME.pem + NAME-key.pem signed by the CA.
# EKU is serverAuth or clientAuth; SAN like "IP:1.2.3.4,DNS:localhost".
issue_cert() {
  local name=$1 cn=$2 eku=$3 san=${4:-} crt=$PKI_DIR/$1.pem key=$PKI_DIR/$1-key.pem
  if [[ -s $crt && -s $key ]] &&
    openssl verify -CAfile "$PKI_DIR/ca.pem" "$crt" >/dev/null 2>&1; then
    info "certificate exists: $crt"
    return 0
  fi
  info "issuing $name (CN=$cn${san:+, $san})"
  openssl genrsa -out "$key" 2048 2>/dev/null
  chmod 0600 "$key"
  {
    echo "basicConstraints = critical, CA:FALSE"
    echo "keyUsage = critical, digitalSignature, keyEncipherment"
    echo "extendedKeyUsage = $eku"
    [[ -z $san ]] || echo "subjectAltName = $san"
  } >"$PKI_DIR/$name.ext"
  openssl req -new -key "$key" -subj "/CN=$cn" -out "$PKI_DIR/$name.csr"
  openssl x509 -req -in "$PKI_DIR/$name.csr" -CA "$PKI_DIR/ca.pem" \
    -CAkey "$PKI_DIR/ca-key.pem" -set_serial "0x$(openssl rand -hex 16)" \
    -sha256 -days 3650 -extfile "$PKI_DIR/$name.ext" -out "$crt" 2>/dev/null
  rm -f "$PKI_DIR/$name.csr"
}

# Copy $1 to $2 only when the content differs; returns 0 if it changed.
install_if_changed() {
  if cmp -s "$1" "$2"; then return 1; fi
  mkdir -p "$(dirname "$2")"
  install -m 0644 "$1" "$2"
}

trust_ca() {
  local hostport
  if install_if_changed "$PKI_DIR/ca.pem" "$SYSTEM_CA_FILE"; then
    info "adding the CA to the system trust (update-ca-certificates)"
    update-ca-certificates >/dev/null
  else
    info "CA already in the system trust"
  fi
  for hostport in "$REGISTRY_HOST" "$AUTH_REGISTRY_HOST"; do
    install_if_changed "$PKI_DIR/ca.pem" "/etc/docker/certs.d/$hostport/ca.crt" || true
  done
}

setup_pki() {
  local node
  mkdir -p "$PKI_DIR"
  make_ca
  issue_cert registry "$HOST_ADDR" serverAuth "IP:$HOST_ADDR,IP:127.0.0.1,DNS:localhost"
  for node in "${NODE_NAMES[@]}"; do
    issue_cert "buildkitd-$node" "$node" serverAuth "IP:${NODE_ADDR[$node]},IP:127.0.0.1"
  done
  issue_cert client buildx-client clientAuth
  chmod 0644 "$PKI_DIR"/*.pem
  chmod 0600 "$PKI_DIR"/*-key.pem
  trust_ca
}
