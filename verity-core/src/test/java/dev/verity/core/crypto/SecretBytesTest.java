package dev.verity.core.crypto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Base32;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class SecretBytesTest {

  @Property
  void textNeverRevealsTheBytes(@ForAll @Size(min = 8, max = 64) byte[] secret) {
    String text = SecretBytes.copyOf(secret).toString();
    assertTrue(text.contains(secret.length + " bytes"), text);
    assertTrue(text.contains("redacted"), text);
    for (String form :
        new String[] {
          HexFormat.of().formatHex(secret),
          HexFormat.of().withUpperCase().formatHex(secret),
          Base32.encode(secret),
          Base64.getEncoder().encodeToString(secret),
          Arrays.toString(secret)
        }) {
      assertFalse(text.contains(form), "toString reveals the secret as " + form);
    }
  }

  @Test
  void keepsItsOwnCopy() {
    byte[] secret = {1, 2, 3, 4};
    SecretBytes s = SecretBytes.copyOf(secret);
    secret[0] = 9;
    assertArrayEquals(new byte[] {1, 2, 3, 4}, s.reveal());
    s.reveal()[1] = 9;
    assertArrayEquals(new byte[] {1, 2, 3, 4}, s.reveal());
    assertEquals(4, s.length());
  }

  @Test
  void comparesByContent() {
    SecretBytes a = SecretBytes.copyOf(new byte[] {1, 2, 3});
    assertTrue(a.equalsConstantTime(SecretBytes.copyOf(new byte[] {1, 2, 3})));
    assertEquals(a, SecretBytes.copyOf(new byte[] {1, 2, 3}));
    assertEquals(a.hashCode(), SecretBytes.copyOf(new byte[] {1, 2, 3}).hashCode());
    assertNotEquals(a, SecretBytes.copyOf(new byte[] {1, 2, 4}));
    assertNotEquals(a, SecretBytes.copyOf(new byte[] {1, 2}));
  }
}
