package siameseim.model.optim;

import java.util.Set;
import siameseim.model.nn.Param;

/**
 * Which tensors get weight decay (spec 4, timm's rule): none for 1-d tensors and biases, none for
 * the names in {@code exempt}. Pretraining exempts nothing else, so cls_token and mask_token
 * (3-d) are decayed as in the reference; fine-tuning exempts pos_embed and cls_token.
 */
public record WeightDecayRule(Set<String> exempt) {

    public static final WeightDecayRule PRETRAIN = new WeightDecayRule(Set.of());
    public static final WeightDecayRule FINETUNE = new WeightDecayRule(Set.of("pos_embed", "cls_token"));

    public boolean decays(String name, Param p) {
        return p.trainable() && p.array().getShape().dimension() > 1 && !name.endsWith(".bias")
                && !exempt.contains(name);
    }
}
