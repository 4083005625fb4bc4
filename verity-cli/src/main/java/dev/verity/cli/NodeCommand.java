package dev.verity.cli;

import dev.verity.node.NodeConfig;
import dev.verity.node.VerityNode;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** verity node up: run one node until Ctrl-C. */
@Command(name = "node", description = "Run a Verity node.", subcommands = {NodeCommand.Up.class, NodeCommand.Id.class})
final class NodeCommand {

  @Command(name = "up", description = "Start a node and serve until Ctrl-C. Settings: docs/CONFIG.md.")
  static final class Up implements Callable<Integer> {
    @Option(names = "--config", description = "properties file with node settings")
    Path configFile;

    @Option(names = "--port", description = "TCP port (overrides the config)")
    Integer port;

    @Option(names = "--data-dir", description = "data directory (overrides the config)")
    Path dataDir;

    @Option(names = "--announce", description = "once serving, write the node's base URL to this file (for"
        + " launchers that start the node on port 0)")
    Path announce;

    @Option(names = "--stop-when-stdin-closes", description = "stop when standard input reaches its end (a launcher"
        + " keeps it open; when the launcher dies the node stops too)")
    boolean stopWhenStdinCloses;

    @Override
    public Integer call() throws Exception {
      NodeConfig config = NodeConfig.load(Optional.ofNullable(configFile), System.getenv());
      if (port != null) {
        config = config.withPort(port);
      }
      if (dataDir != null) {
        config = config.withDataDir(dataDir);
      }
      if (stopWhenStdinCloses) {
        Thread.ofPlatform().daemon().name("verity-stdin-watch").start(() -> {
          try {
            while (System.in.read() >= 0) {
              // the launcher sends nothing; only the end of input matters
            }
          } catch (java.io.IOException e) {
            // a broken pipe is an end too
          }
          System.out.println("standard input closed: stopping");
          System.exit(0);
        });
      }
      try (VerityNode node = VerityNode.start(config)) {
        System.out.println("verity node " + VerityNode.VERSION + " serving at " + node.uri());
        System.out.println("  node key: " + node.publicKey() + " (address " + node.address() + ")");
        System.out.println("  data:     " + config.dataDir());
        System.out.println("  ledger:   " + switch (config.ledger().mode()) {
          case EMBEDDED -> "embedded (" + config.dataDir().resolve("ledger") + "), operator fee "
              + config.ledger().operatorFee();
          case REMOTE -> "remote, following " + config.ledger().url().orElseThrow() + ", operator fee "
              + config.ledger().operatorFee();
          case NONE -> "none (inference is free; set ledger=embedded to charge through jobs)";
        });
        if (node.hasLedger()) {
          System.out.println("  roles:    " + dev.verity.node.net.NetworkSettings.labels(config.roles()));
        }
        if (announce != null) {
          dev.verity.core.io.AtomicFiles.write(announce, node.uri().toString().getBytes(
              java.nio.charset.StandardCharsets.UTF_8));
        }
        awaitShutdown(node);
      }
      return 0;
    }
  }

  @Command(name = "id", description = "Print a node's public key and address (creating its key in the data directory"
      + " if there is none yet), e.g. to name it in a genesis or fund it.")
  static final class Id implements Callable<Integer> {
    @Option(names = "--config", description = "properties file with node settings")
    Path configFile;

    @Option(names = "--data-dir", description = "data directory (overrides the config)")
    Path dataDir;

    @Override
    public Integer call() throws Exception {
      NodeConfig config = NodeConfig.load(Optional.ofNullable(configFile), System.getenv());
      Path dir = dataDir != null ? dataDir : config.dataDir();
      dev.verity.core.crypto.Signer key = VerityNode.loadOrCreateKey(dir);
      System.out.println("public key " + key.publicKey());
      System.out.println("address    " + key.address());
      System.out.println("key file   " + dir.resolve("node.key"));
      return 0;
    }
  }

  /**
   * Blocks until the JVM is asked to stop (Ctrl-C or SIGTERM), then closes {@code resource} (a node,
   * or a network of node processes) before the JVM exits; closing it again afterwards does nothing.
   */
  static void awaitShutdown(AutoCloseable resource) throws Exception {
    CountDownLatch stop = new CountDownLatch(1);
    CountDownLatch closed = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stop.countDown();
      try {
        closed.await(30, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException ignored) {
        Thread.currentThread().interrupt();
      }
    }));
    stop.await();
    try {
      resource.close();
    } finally {
      closed.countDown();
    }
  }
}
