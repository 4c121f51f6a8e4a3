-- Labelled difficulty against what a solver can do, per discipline x labelled band: how often the empirical band
-- (from the solve rate) agrees with the annotator's label, and a calibration fitted per discipline. The fit is the
-- least-squares line solve_rate = intercept + slope x labelled band over the discipline's items; its value at a band,
-- mapped back to a band, is that label's calibrated difficulty. A negative slope means the labels order items by
-- how hard they really are; r2 says how much of the solve rate they explain. A fit is used (is_fit_usable) only
-- with var('calibration_min_items') items or more and a negative slope; otherwise a label means itself.
with

solves as (

    select * from {{ ref('stg_qa__solves') }}
    where solve_rate is not null

),

fits as (

    select
        discipline_id,
        count(*) as fit_items,
        -- a line needs two labelled bands (DuckDB gives NaN over one)
        case when count(distinct labelled_difficulty) > 1
            then regr_slope(solve_rate, labelled_difficulty) end as fit_slope,
        case when count(distinct labelled_difficulty) > 1
            then regr_intercept(solve_rate, labelled_difficulty) end as fit_intercept,
        case when count(distinct labelled_difficulty) > 1
            then regr_r2(solve_rate, labelled_difficulty) end as fit_r2

    from solves
    group by all

),

buckets as (

    select
        discipline_id,
        labelled_difficulty,
        count(*) as items,
        sum(graded_samples) as graded_samples,
        avg(solve_rate) as mean_solve_rate,
        avg(empirical_difficulty) as mean_empirical_difficulty,
        avg(case when empirical_difficulty = labelled_difficulty then 1.0 else 0.0 end) as agreement_share,
        avg(case when abs(empirical_difficulty - labelled_difficulty) <= 1 then 1.0 else 0.0 end) as within_one_share

    from solves
    group by all

),

fitted as (

    select
        buckets.*,
        fits.fit_items,
        fits.fit_slope,
        fits.fit_intercept,
        fits.fit_r2,
        -- one labelled band in the discipline: no line to fit, the band's own mean stands
        greatest(0.0, least(1.0, coalesce(
            fits.fit_intercept + fits.fit_slope * buckets.labelled_difficulty, buckets.mean_solve_rate
        ))) as fitted_solve_rate

    from buckets
    inner join fits on buckets.discipline_id = fits.discipline_id

),

final as (

    select
        discipline_id,
        labelled_difficulty,
        cast(items as integer) as items,
        cast(graded_samples as integer) as graded_samples,
        mean_solve_rate,
        mean_empirical_difficulty,
        agreement_share,
        within_one_share,
        cast(fit_items as integer) as fit_items,
        -- rounded to 6 places: least squares leaves float dust (-0.12499999999999999) nobody should read
        round(fit_slope, 6) as fit_slope,
        round(fit_intercept, 6) as fit_intercept,
        round(fit_r2, 6) as fit_r2,
        round(fitted_solve_rate, 6) as fitted_solve_rate,
        fit_items >= {{ var('calibration_min_items') }} and coalesce(fit_slope < 0, false) as is_fit_usable,
        case when fit_items >= {{ var('calibration_min_items') }} and coalesce(fit_slope < 0, false)
            then {{ solve_rate_band('round(fitted_solve_rate, 6)') }}
            else labelled_difficulty
        end as calibrated_difficulty,
        round(mean_solve_rate - fitted_solve_rate, 6) + 0.0 as residual  -- + 0.0: no -0.0

    from fitted

)

select * from final
