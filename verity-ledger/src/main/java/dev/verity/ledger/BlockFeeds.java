package dev.verity.ledger;

import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The subscriptions of one {@link Ledger}: each delivers blocks to its listener in height order, on
 * its own virtual thread, and sleeps until {@link #wake()} says more blocks are there. Both ledger
 * backends keep their subscribers here; they differ only in where blocks come from.
 *
 * <p>Contract: a listener sees every block from the height it asked for, once, in order; one that
 * throws is logged and still gets the next block; {@link #close()} stops every subscription.
 */
public final class BlockFeeds {
  private static final System.Logger LOG = System.getLogger(BlockFeeds.class.getName());

  /** Where the blocks come from. */
  public interface Source {
    /**
     * Blocks from {@code height} on, at least one when {@code height} is at most the latest height;
     * an empty list means "not now": the feed asks again.
     */
    List<Block> from(long height);
  }

  private final String threadName;
  private final LongSupplier latestHeight;
  private final Source source;
  private final CopyOnWriteArrayList<Feed> feeds = new CopyOnWriteArrayList<>();

  /**
   * @param threadName name of each subscription's thread
   * @param latestHeight the height of the latest block there is
   * @param source reads blocks by height
   */
  public BlockFeeds(String threadName, LongSupplier latestHeight, Source source) {
    this.threadName = Objects.requireNonNull(threadName, "thread name");
    this.latestHeight = Objects.requireNonNull(latestHeight, "latest height");
    this.source = Objects.requireNonNull(source, "source");
  }

  /** Starts delivering blocks from {@code fromHeight} (negative: from 0) to {@code listener}. */
  public Ledger.Subscription subscribe(long fromHeight, Consumer<Block> listener) {
    Feed f = new Feed(Math.max(0, fromHeight), Objects.requireNonNull(listener, "listener"));
    feeds.add(f);
    Thread.ofVirtual().name(threadName).start(f::run);
    return f;
  }

  /** Tells every subscription that new blocks are there. */
  public void wake() {
    for (Feed f : feeds) {
      f.wake.release();
    }
  }

  /** Stops every subscription. */
  public void close() {
    for (Feed f : feeds) {
      f.close();
    }
  }

  private final class Feed implements Ledger.Subscription {
    private final Semaphore wake = new Semaphore(0);
    private final Consumer<Block> listener;
    private volatile boolean stopped;
    private long next;

    Feed(long from, Consumer<Block> listener) {
      this.next = from;
      this.listener = listener;
    }

    void run() {
      try {
        while (!stopped) {
          long last = latestHeight.getAsLong();
          while (next <= last && !stopped) {
            for (Block b : source.from(next)) {
              if (stopped) {
                break;
              }
              try {
                listener.accept(b);
              } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "block subscriber failed on block " + next, e);
              }
              next++;
            }
          }
          wake.acquire();
          wake.drainPermits();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (RuntimeException e) {
        if (!stopped) {
          LOG.log(System.Logger.Level.ERROR, "block subscription stopped", e);
        }
      }
    }

    @Override
    public void close() {
      stopped = true;
      feeds.remove(this);
      wake.release();
    }
  }
}
