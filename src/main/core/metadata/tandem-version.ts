/**
 * Tandem's version as written into files (xmp:CreatorTool "Tandem <version>"). A constant, not a read of
 * package.json: the core runs from source, from the CLI bundle and inside the app's asar, where that file
 * sits at different places. A unit test keeps it equal to package.json.
 */
export const TANDEM_VERSION = '0.1.0';
