package siameseim.model.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** train.tf32 reaches the process environment libtorch reads at its first cuBLAS product. */
class TorchTf32Test {
    @Test
    void theSwitchIsWhatLibtorchReads() {
        Torch.allowTf32(true);
        assertEquals("1", Torch.tf32Setting());
        Torch.allowTf32(false);
        assertEquals("0", Torch.tf32Setting(), "overrides a value set before");
    }
}
