package siameseim.datasets.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import siameseim.datasets.image.RgbImage;

/** OpenCV's channel split and conversion give each pixel's R, G and B bytes as floats, in their planes. */
class OpenCvPlanesTest {
    @Test
    void bgrBytesBecomeRgbPlanesExactly() {
        OpenCvDecoder.load();
        SplittableRandom rng = new SplittableRandom(4);
        for (int[] size : new int[][] {{1, 1}, {7, 3}, {33, 17}, {500, 375}}) {
            int w = size[0];
            int h = size[1];
            byte[] px = new byte[w * h * 3];
            for (int i = 0; i < px.length; i++) {
                px[i] = (byte) rng.nextInt(256);
            }
            Mat bgr = new Mat(h, w, CvType.CV_8UC3);
            bgr.put(0, 0, px);
            RgbImage img = OpenCvDecoder.fromBgr(bgr);
            bgr.release();
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int at = 3 * (y * w + x);
                    assertEquals(px[at + 2] & 0xff, img.get(0, y, x), "R at " + x + "," + y);
                    assertEquals(px[at + 1] & 0xff, img.get(1, y, x), "G at " + x + "," + y);
                    assertEquals(px[at] & 0xff, img.get(2, y, x), "B at " + x + "," + y);
                }
            }
        }
    }
}
