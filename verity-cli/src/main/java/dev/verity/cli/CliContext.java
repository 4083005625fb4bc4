package dev.verity.cli;

import dev.verity.core.crypto.KeyFile;
import dev.verity.core.crypto.Signer;
import dev.verity.sdk.VerityClient;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/** Options every client command shares: which node, which key, where the user's files live. */
final class CliContext {
  @Option(names = "--node", description = "node URL (default: $VERITY_NODE or http://127.0.0.1:8420)")
  String node;

  @Option(names = "--key", description = "name of the signing key in ~/.verity/keys (default: $VERITY_KEY or 'default')")
  String key;

  @Option(names = "--home", description = "Verity's home directory (default: $VERITY_HOME or ~/.verity)")
  Path home;

  Path home() {
    if (home != null) {
      return home;
    }
    String env = System.getenv("VERITY_HOME");
    return env != null ? Path.of(env) : Path.of(System.getProperty("user.home"), ".verity");
  }

  Path keysDir() {
    return home().resolve("keys");
  }

  String keyName() {
    if (key != null) {
      return key;
    }
    String env = System.getenv("VERITY_KEY");
    return env != null ? env : "default";
  }

  Path keyFile(String name) {
    if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
      throw new IllegalArgumentException("key names are 1-64 letters, digits, '.', '_' or '-'");
    }
    return keysDir().resolve(name + ".key");
  }

  Optional<Signer> signer() throws IOException {
    Path f = keyFile(keyName());
    return Files.exists(f) ? Optional.of(KeyFile.read(f)) : Optional.empty();
  }

  Signer requireSigner() throws IOException {
    return signer().orElseThrow(() -> new IllegalStateException(
        "no key named '" + keyName() + "'; create one with: verity keys new --name " + keyName()));
  }

  URI nodeUri() {
    String n = node != null ? node : System.getenv("VERITY_NODE");
    return URI.create(n != null ? n : "http://127.0.0.1:" + dev.verity.node.NodeConfig.DEFAULT_PORT);
  }

  VerityClient client() throws IOException {
    return clientBuilder().build();
  }

  VerityClient.Builder clientBuilder() throws IOException {
    VerityClient.Builder b = VerityClient.builder(nodeUri());
    signer().ifPresent(b::signer);
    return b;
  }
}
