"""The grille d'analyse as pure functions over pandas DataFrames (no Django here).

    exposure.occupation_scores(reference, positions, params)   task profiles → E(o), RTI, class
    cube.build_cube(positions, scores, training_coverage=…)     the 96 level combinations
    secrecy.apply_secrecy(cells, min_companies, dominance)      primary + secondary secrecy
    secrecy.mask_values(cells)                                  what views and exports show

`codes` holds the integer coding of hierarchical codes that the cube and secrecy share.
Selectors load the frames, these functions compute, services store the result.
"""
