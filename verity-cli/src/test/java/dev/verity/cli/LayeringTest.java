package dev.verity.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The build's layering rule: a module's main code may refer only to the modules below it. This
 * test reads every main source file of every module and fails, naming file and reference, when a
 * lower layer refers to a higher one (by import or by qualified name). See docs/ARCHITECTURE.md.
 */
class LayeringTest {
  /** Which modules each module's main code may use (besides itself). */
  static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
      Map.entry("core", Set.of()),
      Map.entry("protocol", Set.of("core")),
      Map.entry("onnx", Set.of("core", "protocol")),
      Map.entry("runtime", Set.of("core", "protocol", "onnx")),
      Map.entry("exec", Set.of("core", "protocol", "onnx")),
      Map.entry("hub", Set.of("core", "protocol")),
      Map.entry("ledger", Set.of("core")),
      Map.entry("zk", Set.of("core", "protocol", "onnx")),
      Map.entry("models", Set.of("core", "protocol", "onnx")),
      Map.entry("node", Set.of("core", "protocol", "onnx", "runtime", "exec", "hub", "ledger", "zk")),
      Map.entry("sdk", Set.of("core", "protocol", "onnx", "exec", "ledger", "zk")),
      Map.entry("cli", Set.of("core", "protocol", "onnx", "runtime", "exec", "hub", "ledger", "zk", "models", "node", "sdk")),
      Map.entry("bench", Set.of("core", "protocol", "onnx", "runtime", "exec", "hub", "ledger", "zk", "models", "node", "sdk")));

  private static final Pattern REFERENCE = Pattern.compile("\\bdev\\.verity\\.([a-z]+)\\b");

  static Path repositoryRoot() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.exists(p.resolve("verity-core"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("run from inside the Verity repository");
    }
    return p;
  }

  /** Every reference from a module's main code to a module it may not use, as "file refers to x". */
  static List<String> violations(Path root) throws IOException {
    List<String> violations = new ArrayList<>();
    try (Stream<Path> modules = Files.list(root)) {
      for (Path dir : modules.filter(d -> Files.isDirectory(d.resolve("src/main/java"))).sorted().toList()) {
        String module = dir.getFileName().toString().replaceFirst("^verity-", "");
        Set<String> allowed = ALLOWED.get(module);
        if (allowed == null) {
          violations.add(module + " has no entry in the layering table (LayeringTest, docs/ARCHITECTURE.md)");
          continue;
        }
        try (Stream<Path> files = Files.walk(dir.resolve("src/main/java"))) {
          for (Path f : files.filter(x -> x.toString().endsWith(".java")).sorted().toList()) {
            Matcher m = REFERENCE.matcher(Files.readString(f));
            while (m.find()) {
              String target = m.group(1);
              if (!target.equals(module) && !allowed.contains(target)) {
                violations.add(root.relativize(f) + " refers to dev.verity." + target);
              }
            }
          }
        }
      }
    }
    return violations.stream().distinct().toList();
  }

  @Test
  void lowerLayersNeverReferToHigherOnes() throws IOException {
    assertEquals(List.of(), violations(repositoryRoot()), "layering violations");
  }

  @Test
  void reportsALowerLayerImportingAHigherOne(@org.junit.jupiter.api.io.TempDir Path root) throws IOException {
    Path f = root.resolve("verity-core/src/main/java/dev/verity/core/Bad.java");
    Files.createDirectories(f.getParent());
    Files.writeString(f, "package dev.verity.core;\nimport dev.verity.node.VerityNode;\nclass Bad {}\n");
    Path ok = root.resolve("verity-node/src/main/java/dev/verity/node/Fine.java");
    Files.createDirectories(ok.getParent());
    Files.writeString(ok, "package dev.verity.node;\nimport dev.verity.core.Hash;\nclass Fine {}\n");
    assertEquals(List.of(Path.of("verity-core/src/main/java/dev/verity/core/Bad.java") + " refers to dev.verity.node"),
        violations(root));
  }

  @Test
  void noTwoModulesMayUseEachOther() {
    for (var e : ALLOWED.entrySet()) {
      for (String dep : e.getValue()) {
        assertTrue(!ALLOWED.get(dep).contains(e.getKey()), e.getKey() + " and " + dep + " may not both use each other");
      }
    }
  }
}
