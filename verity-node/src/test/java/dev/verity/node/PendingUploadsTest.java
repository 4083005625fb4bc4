package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import dev.verity.hub.BlobStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PendingUploadsTest {
  @TempDir Path dir;

  static final class Manual extends Clock {
    long millis = 1_800_000_000_000L;

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis);
    }
  }

  static Cid blob(int i) {
    return BlobStore.cidOf(("blob " + i).getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void uploadsAgeFromTheirFirstUploadAndSurviveARestart() throws Exception {
    Manual clock = new Manual();
    Path file = dir.resolve("pending.log");
    PendingUploads p = PendingUploads.open(file, clock);
    p.add(blob(1));
    clock.millis += 1000;
    p.add(blob(2));
    p.add(blob(1)); // uploaded again: its first upload still counts
    clock.millis += 500;
    assertEquals(List.of(blob(1)), p.olderThan(Duration.ofMillis(1200)));

    PendingUploads reopened = PendingUploads.open(file, clock);
    assertEquals(2, reopened.size());
    assertEquals(List.of(blob(1)), reopened.olderThan(Duration.ofMillis(1200)));
    reopened.forget(List.of(blob(1)));
    assertFalse(reopened.contains(blob(1)));
    PendingUploads again = PendingUploads.open(file, clock);
    assertEquals(1, again.size(), "forgetting is on disk too");
    assertTrue(again.contains(blob(2)));
  }

  @Test
  void aTornOrDamagedLineIsSkippedAndItsUploadKept() throws Exception {
    Manual clock = new Manual();
    Path file = dir.resolve("pending.log");
    PendingUploads p = PendingUploads.open(file, clock);
    p.add(blob(1));
    p.add(blob(2));
    // a crash in the middle of an append, and damage elsewhere
    Files.writeString(file, "not-a-cid 5\n" + blob(4) + " soon\n\n", StandardOpenOption.APPEND);
    Files.writeString(file, blob(3).toString().substring(0, 20), StandardOpenOption.APPEND);
    PendingUploads reopened = PendingUploads.open(file, clock);
    assertEquals(2, reopened.size());
    assertTrue(reopened.contains(blob(1)) && reopened.contains(blob(2)));
    reopened.add(blob(5));
    assertEquals(3, PendingUploads.open(file, clock).size(), "appends after a torn line still read back");
  }

  @Test
  void randomBytesNeverStopTheNodeFromReadingTheFile() throws Exception {
    Random random = new Random(11);
    Path file = dir.resolve("junk.log");
    for (int i = 0; i < 50; i++) {
      byte[] junk = new byte[random.nextInt(2000)];
      random.nextBytes(junk);
      Files.write(file, junk);
      PendingUploads p = PendingUploads.open(file, new Manual());
      p.add(blob(i));
      assertTrue(PendingUploads.open(file, new Manual()).contains(blob(i)));
    }
  }
}
