"""The taxi Keras model that tests and benchmarks train: named inputs as in the TFX taxi example, the
preprocessing (normalization, one-hot lookup) inside the model, one hidden layer. Trains in ~2 s on CPU.

Used by tests/test_model.py and bench/bench_model.py (which puts tests/ on its path).
"""
CATEGORICAL, NUMERIC = ["company", "local", "dow", "month"], ["distance", "hour"]


def keras_inputs(df):
    "The model's inputs from a taxi frame: one (n, 1) tensor per feature column, by name."
    import tensorflow as tf
    out = {c: tf.constant(df[c].to_numpy().reshape(-1, 1)) for c in CATEGORICAL}
    out.update({c: tf.constant(df[c].to_numpy("float32").reshape(-1, 1)) for c in NUMERIC})
    return out


def taxi_keras(df, units=16, epochs=3, seed=0, class_weight=None, name=None):
    "A Keras model predicting P(tip) from the taxi features, trained on `df` (its `tip` column is the label)."
    import keras
    keras.utils.set_random_seed(seed)
    inputs, parts = {}, []
    for c in NUMERIC:
        inputs[c] = keras.Input(shape=(1,), name=c)
        norm = keras.layers.Normalization()
        norm.adapt(df[[c]].to_numpy("float32"))
        parts.append(norm(inputs[c]))
    for c in CATEGORICAL:
        inputs[c] = keras.Input(shape=(1,), name=c, dtype="string")
        parts.append(keras.layers.StringLookup(vocabulary=sorted(df[c].unique()), output_mode="one_hot")(inputs[c]))
    x = keras.layers.Dense(units, activation="relu")(keras.layers.Concatenate()(parts))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x), name=name)
    model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy", jit_compile=False)
    model.fit(keras_inputs(df), (df.tip == "yes").to_numpy("float32"), epochs=epochs, batch_size=256, verbose=0,
              class_weight=class_weight)
    return model
