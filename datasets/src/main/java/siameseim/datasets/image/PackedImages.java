package siameseim.datasets.image;

import java.util.ArrayList;
import java.util.List;

/** Images held in memory as packed 0xRRGGBB pixels (4 bytes per pixel), with labels. */
public final class PackedImages implements ImageSource {
    private final List<int[]> pixels = new ArrayList<>();
    private final List<int[]> sizes = new ArrayList<>();
    private final List<Integer> labels = new ArrayList<>();

    public synchronized void add(RgbImage img, int label) {
        pixels.add(img.toPacked());
        sizes.add(new int[] {img.width(), img.height()});
        labels.add(label);
    }

    @Override
    public synchronized int size() {
        return pixels.size();
    }

    @Override
    public RgbImage image(int index) {
        int[] p;
        int[] s;
        synchronized (this) {
            p = pixels.get(index);
            s = sizes.get(index);
        }
        return RgbImage.fromPacked(s[0], s[1], p);
    }

    @Override
    public synchronized int label(int index) {
        return labels.get(index);
    }
}
