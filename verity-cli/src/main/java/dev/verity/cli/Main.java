package dev.verity.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code verity} command. */
@Command(
    name = "verity",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Host, run and verify AI models. Every result comes with evidence you can check.",
    subcommands = {
      UpCommand.class,
      NodeCommand.class,
      KeysCommand.class,
      ModelsCommand.class,
      InferCommand.class,
      VerifyCommand.class,
      LedgerCommand.class,
      ZkCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the command line and returns its exit code (for tests). */
  public static int run(String... args) {
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler(new Errors());
    return cl.execute(args);
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** Prints the node software version. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"verity " + dev.verity.node.VerityNode.VERSION};
    }
  }

  /** Turns failures into one clear line on stderr and a non-zero exit, without stack traces. */
  static final class Errors implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception e, CommandLine cl, CommandLine.ParseResult pr) {
      String msg = e.getMessage() == null ? e.toString() : e.getMessage();
      if (e instanceof dev.verity.core.VerificationException) {
        cl.getErr().println("verity: VERIFICATION FAILED: " + msg);
        return 3;
      }
      cl.getErr().println("verity: " + msg);
      if (System.getenv("VERITY_DEBUG") != null) {
        e.printStackTrace(cl.getErr());
      }
      return 1;
    }
  }
}
