package dev.verity.cli;

import dev.verity.core.Cid;
import dev.verity.core.Hash;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.PublicKey;
import dev.verity.ledger.Block;
import dev.verity.ledger.BlockHeader;
import dev.verity.ledger.Committed;
import dev.verity.ledger.SignedTransaction;
import dev.verity.ledger.StateRecord;
import dev.verity.sdk.LedgerClient;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.VerityClient;
import java.io.IOException;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** verity ledger account|head|blocks|job|transfer|open-job|register-model|faucet|genesis */
@Command(name = "ledger", description = "Balances, stakes, jobs and blocks of the node's ledger; transfers and jobs.",
    subcommands = {LedgerCommand.Account.class, LedgerCommand.Head.class, LedgerCommand.Blocks.class,
        LedgerCommand.Job.class, LedgerCommand.Transfer.class, LedgerCommand.OpenJob.class,
        LedgerCommand.RegisterModel.class, LedgerCommand.Faucet.class, LedgerCommand.Genesis.class})
final class LedgerCommand {

  /** Which sequencer key ledger headers must be signed by. */
  static final class Sequencer {
    @Option(names = "--sequencer-key", description = "check ledger headers against this key (ed25519:...); "
        + "default: the key the node's genesis names, trusted on first use")
    String key;

    VerityClient client(CliContext ctx) throws IOException {
      VerityClient.Builder b = VerityClient.builder(ctx.nodeUri());
      ctx.signer().ifPresent(b::signer);
      if (key != null) {
        b.sequencer(PublicKey.parse(key));
      }
      return b.build();
    }

    String trust() {
      return key != null ? "the sequencer key you pinned" : "the sequencer key of the node's genesis (pin one with --sequencer-key)";
    }
  }

  static String shortHex(Hash h) {
    String s = h.toHex();
    return s.substring(0, 12) + "…";
  }

  private static void printCommitted(String what, Committed c) {
    System.out.println(what + " committed in block " + c.height() + " (transaction " + c.txId().toHex() + ")");
  }

  @Command(name = "account", description = "An account's balance, nonce and stake (default: your key's).")
  static final class Account implements Callable<Integer> {
    @Mixin CliContext ctx;
    @Mixin Sequencer sequencer;
    @Parameters(index = "0", arity = "0..1", description = "address (vt...)") String address;
    @Option(names = "--prove", description = "check the values with state proofs against the signed head") boolean prove;

    @Override
    public Integer call() throws Exception {
      Address a = address != null ? Address.parse(address) : ctx.requireSigner().address();
      try (VerityClient client = sequencer.client(ctx)) {
        LedgerClient.AccountState s = client.ledger().account(a, prove);
        System.out.println("account  " + a);
        System.out.println("  balance   " + s.account().balance());
        System.out.println("  nonce     " + s.account().nonce());
        System.out.println("  stake     " + s.stake().bonded() + " bonded, " + s.stake().unbonding() + " unbonding"
            + (s.stake().unbonding() > 0 ? " (withdrawable from block " + s.stake().releaseHeight() + ")" : ""));
        if (s.header().isPresent()) {
          BlockHeader h = s.header().get();
          System.out.println("proven against block " + h.height() + " (state root " + h.stateRoot().toHex()
              + "), its header signed by " + sequencer.trust());
        } else {
          System.out.println("as of block " + s.height() + ", as the node reports it (pass --prove to check it)");
        }
      }
      return 0;
    }
  }

  @Command(name = "head", description = "The latest block header, its signature checked.")
  static final class Head implements Callable<Integer> {
    @Mixin CliContext ctx;
    @Mixin Sequencer sequencer;

    @Override
    public Integer call() throws Exception {
      try (VerityClient client = sequencer.client(ctx)) {
        BlockHeader h = client.ledger().head();
        System.out.println("chain       " + h.chainId());
        System.out.println("height      " + h.height());
        System.out.println("hash        " + h.hash().toHex());
        System.out.println("state root  " + h.stateRoot().toHex());
        System.out.println("time        " + java.time.Instant.ofEpochMilli(h.timeMillis()));
        System.out.println("signed by   " + h.sequencer() + " (verified: " + sequencer.trust() + ")");
      }
      return 0;
    }
  }

  @Command(name = "blocks", description = "Blocks and their transactions, each block checked against its signed header.")
  static final class Blocks implements Callable<Integer> {
    @Mixin CliContext ctx;
    @Mixin Sequencer sequencer;
    @Option(names = "--from", description = "first height (default: the last --count blocks)") Long from;
    @Option(names = "--count", defaultValue = "10", description = "how many blocks (default: ${DEFAULT-VALUE})") int count;

    @Override
    public Integer call() throws Exception {
      try (VerityClient client = sequencer.client(ctx)) {
        LedgerClient ledger = client.ledger();
        long start = from != null ? from : Math.max(0, ledger.head().height() - count + 1);
        for (Block b : ledger.blocks(start, count)) {
          BlockHeader h = b.header();
          System.out.println("block " + h.height() + "  " + shortHex(h.hash()) + "  " + h.txCount() + " transactions, "
              + h.receiptCount() + " receipts  " + java.time.Instant.ofEpochMilli(h.timeMillis()));
          for (SignedTransaction t : b.transactions()) {
            System.out.println("  " + t.tx().action().type() + " from " + t.tx().senderAddress() + " nonce "
                + t.tx().nonce() + " fee " + t.tx().fee());
          }
        }
        System.out.println("(every block's header signature and transaction and receipt roots verified)");
      }
      return 0;
    }
  }

  @Command(name = "job", description = "A job, proven against the signed head.")
  static final class Job implements Callable<Integer> {
    @Mixin CliContext ctx;
    @Mixin Sequencer sequencer;
    @Parameters(index = "0", description = "job id (64 hex characters)") String id;

    @Override
    public Integer call() throws Exception {
      try (VerityClient client = sequencer.client(ctx)) {
        LedgerClient.ProvenJob p = client.ledger().job(Hash.fromHex(id));
        StateRecord.Job j = p.job();
        System.out.println("job       " + j.id().toHex());
        System.out.println("  status    " + j.status().name().toLowerCase(Locale.ROOT));
        System.out.println("  client    " + j.client());
        System.out.println("  model     " + j.model() + " (owner " + j.modelOwner() + ", royalty " + j.modelPrice() + ")");
        System.out.println("  worker    " + j.worker().map(Address::toString).orElse("any registered worker"));
        System.out.println("  escrow    " + j.escrow() + ", charged " + j.charged());
        System.out.println("  receipts  " + j.receipts() + " committed");
        System.out.println("  blocks    opened " + j.openedHeight() + ", expires " + j.expiresHeight()
            + (j.settledHeight() > 0 ? ", settled " + j.settledHeight() : ""));
        System.out.println("proven against block " + p.header().height() + ", its header signed by " + sequencer.trust());
      }
      return 0;
    }
  }

  @Command(name = "transfer", description = "Send funds from your key's account.")
  static final class Transfer implements Callable<Integer> {
    @Mixin CliContext ctx;
    @Mixin Sequencer sequencer;
    @Option(names = "--to", required = true, description = "recipient address (vt...)") String to;
    @Option(names = "--amount", required = true, description = "amount in the smallest unit") long amount;

    @Override
    public Integer call() throws Exception {
      ctx.requireSigner();
      try (VerityClient client = sequencer.client(ctx)) {
        printCommitted("transfer of " + amount + " to " + to, client.ledger().transfer(Address.parse(to), amount));
      }
      return 0;
    }
  }

  @Command(name = "open-job", description = "Escrow funds for one inference of a model; prints the job id to pass to 'verity infer --job'.")
  static final class OpenJob implements Callable<Integer> {
    @Mixin CliContext ctx;
    @Mixin Sequencer sequencer;
    @Parameters(index = "0", description = "OWNER/REPO[@VERSION] or a manifest CID") String model;
    @Option(names = "--max-fee", description = "escrow (default: the node's price for the model)") Long maxFee;
    @Option(names = "--any-worker", description = "let any registered worker serve it (default: this node)") boolean anyWorker;

    @Override
    public Integer call() throws Exception {
      ctx.requireSigner();
      try (VerityClient client = sequencer.client(ctx)) {
        Cid manifest = client.model(ModelRef.parse(model)).manifest().cid();
        Optional<LedgerClient.Quote> q = client.ledger().quote(manifest);
        if (q.isEmpty()) {
          throw new IllegalStateException("manifest " + manifest + " is not registered on the node's ledger; its owner "
              + "registers it with: verity ledger register-model " + model + " --price N");
        }
        long fee = maxFee != null ? maxFee : q.get().price();
        Hash job = client.ledger().openJob(manifest, anyWorker ? Optional.empty() : Optional.of(q.get().worker()), fee);
        System.out.println(job.toHex());
        System.err.println("job opened for " + manifest + ", escrowing " + fee + " (price here " + q.get().price() + ": "
            + q.get().royalty() + " royalty + " + q.get().operatorFee() + " operator fee); run it with: verity infer "
            + model + " --job " + job.toHex() + " --input FILE");
      }
      return 0;
    }
  }

  @Command(name = "register-model", description = "Register a version you own on the ledger, with its royalty per inference.")
  static final class RegisterModel implements Callable<Integer> {
    @Mixin CliContext ctx;
    @Mixin Sequencer sequencer;
    @Parameters(index = "0", description = "OWNER/REPO[@VERSION] or a manifest CID") String model;
    @Option(names = "--price", description = "royalty per inference (default: the manifest's price)") Long price;

    @Override
    public Integer call() throws Exception {
      ctx.requireSigner();
      try (VerityClient client = sequencer.client(ctx)) {
        var m = client.model(ModelRef.parse(model)).manifest();
        long royalty = price != null ? price : m.price();
        printCommitted(m.repositoryId() + "@" + m.version() + " registered at a royalty of " + royalty,
            client.ledger().registerModel(m.cid(), royalty));
      }
      return 0;
    }
  }

  @Command(name = "faucet", description = "Mint funds to your key's account (dev networks only).")
  static final class Faucet implements Callable<Integer> {
    @Mixin CliContext ctx;
    @Mixin Sequencer sequencer;
    @Option(names = "--amount", required = true, description = "amount in the smallest unit") long amount;

    @Override
    public Integer call() throws Exception {
      ctx.requireSigner();
      try (VerityClient client = sequencer.client(ctx)) {
        printCommitted("faucet of " + amount, client.ledger().faucet(amount));
      }
      return 0;
    }
  }

  @Command(name = "genesis", description = "Write the genesis file of a new network (docs/NETWORK.md): its sequencer,"
      + " treasury and funded accounts. Every node of the network is started with it (ledger.genesis).")
  static final class Genesis implements Callable<Integer> {
    @Option(names = "--chain-id", required = true, description = "the network's name, signed into every transaction")
    String chainId;

    @Option(names = "--sequencer", required = true, description = "the sequencer node's public key (ed25519:...;"
        + " 'verity node id' prints it)")
    String sequencerKey;

    @Option(names = "--authority", description = "key that resolves challenges (default: the sequencer's)")
    String authorityKey;

    @Option(names = "--treasury", required = true, description = "address receiving fees and the protocol share")
    String treasury;

    @Option(names = "--allocate", description = "ADDRESS=AMOUNT funded at genesis (repeatable); fund every node"
        + " with at least --min-node-stake so it can register")
    java.util.List<String> allocations = new java.util.ArrayList<>();

    @Option(names = "--dev", description = "a development network: the faucet mints funds to anyone")
    boolean devNetwork;

    @Option(names = "--min-fee", defaultValue = "1", description = "fee per transaction (default: ${DEFAULT-VALUE})")
    long minFee;

    @Option(names = "--min-node-stake", defaultValue = "1000",
        description = "stake a node bonds to register (default: ${DEFAULT-VALUE})")
    long minNodeStake;

    @Option(names = "--job-timeout-blocks", defaultValue = "100000", description = "blocks after which an unused job"
        + " can be failed by its client; heartbeats make blocks, so allow for about nodes / heartbeat interval blocks"
        + " per second (default: ${DEFAULT-VALUE})")
    long jobTimeoutBlocks;

    @Option(names = {"-o", "--output"}, required = true, description = "genesis file to write (must not exist)")
    java.nio.file.Path output;

    @Override
    public Integer call() throws Exception {
      if (java.nio.file.Files.exists(output)) {
        throw new IllegalArgumentException(output + " exists; a network's genesis is written once");
      }
      PublicKey seq = PublicKey.parse(sequencerKey);
      dev.verity.ledger.GenesisConfig.Builder b = dev.verity.ledger.GenesisConfig.builder(chainId)
          .devNetwork(devNetwork)
          .genesisTime(System.currentTimeMillis())
          .sequencer(seq)
          .authority(authorityKey != null ? PublicKey.parse(authorityKey) : seq)
          .treasury(Address.parse(treasury))
          .minFee(minFee)
          .minNodeStake(minNodeStake)
          .jobTimeoutBlocks(jobTimeoutBlocks);
      for (String a : allocations) {
        int eq = a.indexOf('=');
        if (eq <= 0) {
          throw new IllegalArgumentException("--allocate takes ADDRESS=AMOUNT, got '" + a + "'");
        }
        long amount;
        try {
          amount = Long.parseLong(a.substring(eq + 1).trim());
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("--allocate " + a + ": the amount must be a whole number");
        }
        b.allocate(Address.parse(a.substring(0, eq).trim()), amount);
      }
      dev.verity.ledger.GenesisConfig g = b.build();
      dev.verity.core.io.AtomicFiles.write(output, g.encode());
      System.out.println("wrote the genesis of chain '" + g.chainId() + "' to " + output);
      System.out.println("  genesis hash " + g.hash().toHex() + " (publish it: nodes can check their copy against it)");
      System.out.println("  sequencer    " + g.sequencer());
      return 0;
    }
  }
}
