/** The sample pair the suite explains (from samples/aligned), copied into the test workspace. */
export const PAIR = ['man_01_face0.png', 'man_02_face0.png'] as const;

/** Two group photos (3 and 4 faces, from samples/photos), copied into the test workspace's photos/. */
export const GROUP_PHOTOS = ['sample1.jpg', 'sample4.jpg'] as const;

/** The example notebook, relative to the repository and to the test workspace. */
export const NOTEBOOK = 'examples/explain.ipynb';

/** The pair list the suite explains into `<list>.xssab` next to it, and its number of pairs. */
export const PAIR_LIST = 'pair-list.csv';
export const PAIR_LIST_PAIRS = 6;
