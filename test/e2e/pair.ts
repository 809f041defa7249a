/** The sample pair the suite explains (from samples/aligned), copied into the test workspace. */
export const PAIR = ['man_01_face0.png', 'man_02_face0.png'] as const;

/** The example notebook, relative to the repository and to the test workspace. */
export const NOTEBOOK = 'examples/explain.ipynb';
