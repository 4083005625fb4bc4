package dev.verity.cli;

import dev.verity.core.crypto.KeyFile;
import dev.verity.core.crypto.Signer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** verity keys new|show|list */
@Command(name = "keys", description = "Manage Ed25519 signing keys (stored readable by you only).",
    subcommands = {KeysCommand.New.class, KeysCommand.Show.class, KeysCommand.ListKeys.class})
final class KeysCommand {

  @Command(name = "new", description = "Create a new key.")
  static final class New implements Callable<Integer> {
    @Mixin CliContext ctx;
    @Option(names = "--name", description = "key name (default: the --key name, or 'default')")
    String name;

    @Override
    public Integer call() throws Exception {
      String n = name != null ? name : ctx.keyName();
      Path file = ctx.keyFile(n);
      if (Files.exists(file)) {
        throw new IllegalStateException("a key named '" + n + "' exists already (" + file + "); keys are never overwritten");
      }
      Signer s = Signer.generate();
      KeyFile.write(file, s);
      System.out.println("created key '" + n + "'");
      System.out.println("  address:    " + s.address());
      System.out.println("  public key: " + s.publicKey());
      System.out.println("  file:       " + file);
      return 0;
    }
  }

  @Command(name = "show", description = "Show a key's address and public key.")
  static final class Show implements Callable<Integer> {
    @Mixin CliContext ctx;
    @Parameters(arity = "0..1", description = "key name") String name;

    @Override
    public Integer call() throws Exception {
      String n = name != null ? name : ctx.keyName();
      Path file = ctx.keyFile(n);
      if (!Files.exists(file)) {
        throw new IllegalStateException("no key named '" + n + "'; create one with: verity keys new --name " + n);
      }
      Signer s = KeyFile.read(file);
      System.out.println("name:       " + n);
      System.out.println("address:    " + s.address());
      System.out.println("public key: " + s.publicKey());
      return 0;
    }
  }

  @Command(name = "list", description = "List your keys.")
  static final class ListKeys implements Callable<Integer> {
    @Mixin CliContext ctx;

    @Override
    public Integer call() throws Exception {
      Path dir = ctx.keysDir();
      if (!Files.isDirectory(dir)) {
        System.out.println("no keys yet; create one with: verity keys new");
        return 0;
      }
      try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.key")) {
        java.util.List<Path> sorted = new java.util.ArrayList<>();
        files.forEach(sorted::add);
        java.util.Collections.sort(sorted);
        for (Path f : sorted) {
          String n = f.getFileName().toString().replaceFirst("\\.key$", "");
          try {
            System.out.printf("%-16s %s%n", n, KeyFile.read(f).address());
          } catch (Exception e) {
            System.out.printf("%-16s (unreadable: %s)%n", n, e.getMessage());
          }
        }
      }
      return 0;
    }
  }
}
