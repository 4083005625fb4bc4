package dev.verity.cli;

import dev.verity.core.crypto.Address;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.tensor.TensorSpec;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** verity models publish|list|show|yank|download */
@Command(name = "models", description = "Publish, list, inspect, yank and download model versions.",
    subcommands = {ModelsCommand.Publish.class, ModelsCommand.ListModels.class, ModelsCommand.Show.class,
        ModelsCommand.Yank.class, ModelsCommand.Download.class})
final class ModelsCommand {

  @Command(name = "publish", description = "Publish an ONNX file as a new, immutable version of your repository.")
  static final class Publish implements Callable<Integer> {
    @Mixin CliContext ctx;
    @Parameters(index = "0", description = "the .onnx file") Path file;
    @Option(names = "--repo", required = true, description = "repository name (created on first publish)") String repo;
    @Option(names = "--version", required = true, description = "version label, e.g. 1.0.0") String version;
    @Option(names = "--task", defaultValue = "", description = "task, e.g. classification") String task;
    @Option(names = "--license", defaultValue = "", description = "licence of the model") String license;
    @Option(names = "--description", defaultValue = "") String description;
    @Option(names = "--tag", description = "a tag (repeatable)") List<String> tags = new ArrayList<>();
    @Option(names = "--price", defaultValue = "0", description = "price per inference, in the smallest unit") long price;
    @Option(names = "--mode", description = "allowed verification mode (repeatable; default receipt)") List<String> modes = new ArrayList<>();
    @Option(names = "--private", description = "only you and --allow addresses may run it") boolean isPrivate;
    @Option(names = "--allow", description = "address allowed to run a private model (repeatable)") List<String> allow = new ArrayList<>();

    @Override
    public Integer call() throws Exception {
      EnumSet<VerificationMode> m = EnumSet.noneOf(VerificationMode.class);
      modes.forEach(s -> m.add(VerificationMode.fromWireName(s)));
      if (m.isEmpty()) {
        m.add(VerificationMode.RECEIPT);
      }
      Publication p = Publication.of(repo, version).withDetails(task, license, description, tags).withPrice(price).withModes(m);
      if (isPrivate) {
        p = p.privateTo(allow.stream().map(Address::parse).toList());
      } else if (!allow.isEmpty()) {
        throw new IllegalArgumentException("--allow only applies with --private");
      }
      try (VerityClient client = ctx.client()) {
        ctx.requireSigner();
        ModelManifest manifest = client.publish(file, p, new Progress("uploading", System.err));
        System.out.println("published " + manifest.repositoryId() + "@" + manifest.version());
        System.out.println("  manifest " + manifest.cid());
        System.out.println("  model    " + manifest.model() + " (" + manifest.modelSize() + " bytes)");
      }
      return 0;
    }
  }

  @Command(name = "list", description = "List the repositories a node hosts.")
  static final class ListModels implements Callable<Integer> {
    @Mixin CliContext ctx;

    @Override
    public Integer call() throws Exception {
      try (VerityClient client = ctx.client()) {
        var repos = client.listModels();
        if (repos.isEmpty()) {
          System.out.println("no models on " + ctx.nodeUri());
        }
        for (var r : repos) {
          System.out.println(r.id() + "  versions: " + String.join(", ", r.versions()));
        }
      }
      return 0;
    }
  }

  @Command(name = "show", description = "Show a version's verified manifest.")
  static final class Show implements Callable<Integer> {
    @Mixin CliContext ctx;
    @Parameters(index = "0", description = "OWNER/REPO[@VERSION] or a manifest CID") String ref;

    @Override
    public Integer call() throws Exception {
      try (VerityClient client = ctx.client()) {
        var v = client.model(ModelRef.parse(ref));
        ModelManifest m = v.manifest();
        System.out.println(m.repositoryId() + "@" + m.version() + (v.yanked() ? "  [YANKED: " + v.yankReason().orElse("") + "]" : ""));
        System.out.println("  manifest    " + m.cid() + " (signature verified)");
        System.out.println("  model       " + m.model() + " (" + m.modelSize() + " bytes, " + m.format() + ", opsets " + m.opsets() + ")");
        for (TensorSpec s : m.inputs()) {
          System.out.println("  input       " + s.name() + " " + s.type().wireName() + s.shapeText());
        }
        for (TensorSpec s : m.outputs()) {
          System.out.println("  output      " + s.name() + " " + s.type().wireName() + s.shapeText());
        }
        System.out.println("  task        " + m.task());
        System.out.println("  license     " + m.license());
        System.out.println("  price       " + m.price());
        System.out.println("  modes       " + m.modes().stream().map(VerificationMode::wireName).toList());
        System.out.println("  visibility  " + m.visibility().name().toLowerCase(java.util.Locale.ROOT)
            + (m.allowList().isEmpty() ? "" : " " + m.allowList()));
        System.out.println("  created     " + java.time.Instant.ofEpochMilli(m.createdAtMillis()));
        if (!m.description().isEmpty()) {
          System.out.println("  " + m.description());
        }
      }
      return 0;
    }
  }

  @Command(name = "yank", description = "Mark a version as not to be used (it stays readable).")
  static final class Yank implements Callable<Integer> {
    @Mixin CliContext ctx;
    @Parameters(index = "0", description = "OWNER/REPO@VERSION") String ref;
    @Option(names = "--reason", required = true) String reason;

    @Override
    public Integer call() throws Exception {
      try (VerityClient client = ctx.client()) {
        ctx.requireSigner();
        client.yank(ModelRef.parse(ref), reason);
        System.out.println("yanked " + ref);
      }
      return 0;
    }
  }

  @Command(name = "download", description = "Download a version's model file, checked against its CID.")
  static final class Download implements Callable<Integer> {
    @Mixin CliContext ctx;
    @Parameters(index = "0", description = "OWNER/REPO[@VERSION] or a manifest CID") String ref;
    @Option(names = {"-o", "--output"}, required = true) Path out;

    @Override
    public Integer call() throws Exception {
      try (VerityClient client = ctx.client()) {
        ModelManifest m = client.download(ModelRef.parse(ref), out, new Progress("downloading", System.err));
        System.out.println("downloaded " + m.repositoryId() + "@" + m.version() + " to " + out + " (CID verified: " + m.model() + ")");
      }
      return 0;
    }
  }
}
