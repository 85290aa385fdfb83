#!/usr/bin/env bash
# Generates the TLS test certificates in tests/fixtures/tls/ (openssl 3).
# The keys are for the tests only: they are public, never trust them.
#
#   ca.pem / ca.key            test CA (valid 2000–2100)
#   server.pem / server.key    signed by the test CA for localhost, tls.test,
#                              race.test, *.tls.test, 127.0.0.1 and ::1
#   expired.pem / expired.key  signed by the test CA, same names, valid only
#                              in 2000
#   other_ca.pem               an unrelated CA (not trusted by the tests)
#   untrusted.pem / .key       signed by other_ca, same names as server.pem
#
# Re-running replaces every file.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
out="$here/tests/fixtures/tls"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

san="DNS:localhost,DNS:tls.test,DNS:race.test,DNS:*.tls.test,IP:127.0.0.1,IP:::1"
# Every certificate but the expired one is valid from 2000 to 2100, so a
# machine whose clock is off by years still accepts them. `openssl ca` takes
# explicit dates (x509 -not_before/-not_after need openssl 3.4+).
from=20000101000000Z
to=21000101000000Z

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

cat >"$work/ext.cnf" <<EXT
[ca_ext]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
[leaf_ext]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$san
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EXT

# sign CSR OUT CA_NAME|self START END EXTENSIONS KEY
sign() {
  local db="$work/db.$RANDOM"
  mkdir -p "$db"
  : >"$db/index.txt"
  openssl rand -hex 16 >"$db/serial"
  cat >"$db/ca.cnf" <<CNF
[ca]
default_ca = test
[test]
dir = $db
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
CNF
  if [[ "$3" == self ]]; then
    openssl ca -batch -config "$db/ca.cnf" -selfsign -keyfile "$7" \
      -in "$1" -startdate "$4" -enddate "$5" -extfile "$work/ext.cnf" \
      -extensions "$6" -notext -out "$2" 2>/dev/null
  else
    openssl ca -batch -config "$db/ca.cnf" -cert "$out/$3.pem" \
      -keyfile "$out/$3.key" -in "$1" -startdate "$4" -enddate "$5" \
      -extfile "$work/ext.cnf" -extensions "$6" -notext -out "$2" 2>/dev/null
  fi
}

ca() { # ca NAME SUBJECT
  key "$out/$1.key"
  openssl req -new -key "$out/$1.key" -subj "$2" -out "$work/$1.csr"
  sign "$work/$1.csr" "$out/$1.pem" self "$from" "$to" ca_ext "$out/$1.key"
}

leaf() { # leaf NAME CA START END
  key "$out/$1.key"
  openssl req -new -key "$out/$1.key" -subj "/CN=tls.test" -out "$work/$1.csr"
  sign "$work/$1.csr" "$out/$1.pem" "$2" "$3" "$4" leaf_ext
}

ca ca "/CN=nettrace test CA"
ca other_ca "/CN=nettrace untrusted test CA"
leaf server ca "$from" "$to"
leaf untrusted other_ca "$from" "$to"
leaf expired ca 20000101000000Z 20000201000000Z

rm -f "$out/other_ca.key"
cat >"$out/README.md" <<'MD'
# TLS test certificates

Made by `scripts/make_tls_fixtures.sh` (re-run it to replace them). The
private keys are for the tests only and are public: never trust these
certificates anywhere else.

- `ca.pem` (+ `ca.key`): the test CA the tests trust. It and every
  certificate here but `expired.pem` are valid from 2000 to 2100, so a
  machine whose clock is off by years still accepts them.
- `server.pem` / `server.key`: signed by it for `localhost`, `tls.test`,
  `race.test`, `*.tls.test`, `127.0.0.1` and `::1`.
- `expired.pem` / `expired.key`: signed by it, same names, valid only in
  January 2000.
- `other_ca.pem`: an unrelated CA; `untrusted.pem` / `untrusted.key` are
  signed by it (same names as `server.pem`).
MD
echo "wrote $(ls "$out" | wc -l) files to $out"
