# Shared shell functions for the launcher, the test command and CI. Sourced, not run.

# Prints the home of a JDK >= 21 (with javac) or explains on stderr that there is none.
verity_find_jdk() {
  local candidates=() c
  [[ -n "${JAVA_HOME:-}" ]] && candidates+=("$JAVA_HOME")
  if command -v javac >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")")
  fi
  for c in /usr/lib/jvm/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/*; do
    [[ -d "$c" ]] && candidates+=("$c")
  done
  for c in "${candidates[@]}"; do
    [[ -x "$c/bin/java" && -x "$c/bin/javac" ]] || continue
    local v
    v="$("$c/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
    if [[ "$v" =~ ^[0-9]+$ ]] && ((v >= 21)); then
      echo "$c"
      return 0
    fi
  done
  cat >&2 <<MSG
verity: no JDK 21 or newer was found (looked at JAVA_HOME, javac on PATH and /usr/lib/jvm).
verity: install one (for example Temurin 21+ or 'apt-get install openjdk-21-jdk' where your
verity: distribution has it) or point JAVA_HOME at it, then run this command again.
MSG
  return 1
}

verity_require_maven() {
  if ! command -v mvn >/dev/null 2>&1; then
    echo "verity: Apache Maven (mvn) is needed to build Verity; install it (apt-get install maven)." >&2
    return 1
  fi
}

# Rebuilds the CLI and its dependencies when any source or build file is newer than the last build.
verity_build_if_stale() {
  local stamp="$ROOT/verity-cli/target/.verity-built"
  if [[ -f "$stamp" ]] && [[ -z "$(find "$ROOT" -path "$ROOT/.git" -prune -o \
      \( -name target -o -name node_modules -o -name .cache \) -prune -o \
      \( -name '*.java' -o -name 'pom.xml' -o -path '*/src/main/resources/*' \) \
      -newer "$stamp" -print -quit)" ]]; then
    return 0
  fi
  verity_require_maven || return 1
  echo "verity: building (first use or sources changed)..." >&2
  (cd "$ROOT" && mvn -B -q -DskipTests -Dverity.skipBench install -pl verity-cli -am) >&2 || {
    echo "verity: build failed; see the output above." >&2
    return 1
  }
  touch "$stamp"
}
