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
@Command(name = "node", description = "Run a Verity node.", subcommands = NodeCommand.Up.class)
final class NodeCommand {

  @Command(name = "up", description = "Start a node and serve until Ctrl-C. Settings: docs/CONFIG.md.")
  static final class Up implements Callable<Integer> {
    @Option(names = "--config", description = "properties file with node settings")
    Path configFile;

    @Option(names = "--port", description = "TCP port (overrides the config)")
    Integer port;

    @Option(names = "--data-dir", description = "data directory (overrides the config)")
    Path dataDir;

    @Override
    public Integer call() throws Exception {
      NodeConfig config = NodeConfig.load(Optional.ofNullable(configFile), System.getenv());
      if (port != null) {
        config = config.withPort(port);
      }
      if (dataDir != null) {
        config = config.withDataDir(dataDir);
      }
      try (VerityNode node = VerityNode.start(config)) {
        System.out.println("verity node " + VerityNode.VERSION + " serving at " + node.uri());
        System.out.println("  node key: " + node.publicKey());
        System.out.println("  data:     " + config.dataDir());
        System.out.println("  ledger:   " + (node.hasLedger()
            ? "embedded (" + config.dataDir().resolve("ledger") + "), operator fee " + config.ledger().operatorFee()
            : "none (inference is free; set ledger=embedded to charge through jobs)"));
        awaitShutdown();
      }
      return 0;
    }
  }

  /** Blocks until the JVM is asked to stop (Ctrl-C or SIGTERM); the node then closes cleanly. */
  static void awaitShutdown() throws InterruptedException {
    CountDownLatch stop = new CountDownLatch(1);
    Thread current = Thread.currentThread();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stop.countDown();
      try {
        current.join(10_000);
      } catch (InterruptedException ignored) {
        Thread.currentThread().interrupt();
      }
    }));
    stop.await();
  }
}
