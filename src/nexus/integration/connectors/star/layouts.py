"""Renaissance Star data-extract layouts: the v2 and the legacy headers of SR, SM and SEL.

Headers are copied from `shared/reference/sources/renaissance-star.md` (Renaissance's v2
data-extract files, confirmed against two public sources, and the older layout still found in
district archives). Only the columns whose values are checked are typed; scores such as
`GradeEquivalent` (`>12.9`) and dates of the legacy layout (format unconfirmed) stay text.
"""

from __future__ import annotations

from nexus.integration.connectors.base import ColumnSpec


def _h(text: str) -> tuple[str, ...]:
    return tuple(text.split(","))


PRODUCTS: dict[str, str] = {
    "SR": "star_reading",
    "SM": "star_math",
    "SEL": "star_early_literacy",
}
LAYOUTS: tuple[str, ...] = ("v2", "legacy")
# One row per test event; the key is the event's id in each layout.
NATURAL_KEY: dict[str, tuple[str, ...]] = {
    "v2": ("AssessmentID",),
    "legacy": ("StudentAssessmentID",),
}
# v2 datetimes are ISO 8601 (`2023-08-21T17:28:05.852Z`, or `2023-10-02 15:47:56.065`).
_TYPES: dict[str, dict[str, str]] = {
    "v2": {
        "SchoolYearStartDate": "datetime",
        "SchoolYearEndDate": "datetime",
        "BirthDate": "datetime",
        "LaunchDate": "datetime",
        "CompletedDate": "datetime",
        "CompletedDateLocal": "datetime",
        "ScreeningWindowStartDate": "datetime",
        "ScreeningWindowEndDate": "datetime",
        "AssessmentNumber": "integer",
        "ScaledScore": "decimal",
        "StandardErrorOfMeasurement": "decimal",
        "RaschScore": "decimal",
        "UnifiedScore": "decimal",
        "PercentileRank": "decimal",
        "NormalCurveEquivalent": "decimal",
        "TotalTimeInSeconds": "decimal",
        "TotalCorrect": "integer",
        "TotalPossible": "integer",
    },
    "legacy": {
        "AssessmentNumber": "integer",
        "ScaledScore": "decimal",
        "SEM": "decimal",
        "RaschScore": "decimal",
        "PercentileRank": "decimal",
    },
}

# Every v2 file opens with the same roster columns: student, district, school, class, teacher.
_V2_ROSTER = (
    "RenaissanceClientID,SchoolYear,SchoolYearStartDate,SchoolYearEndDate,"
    "StudentRenaissanceID,StudentSourcedID,StudentIdentifier,StudentUserID,"
    "StudentStateID,StudentEmail,StudentFirstName,StudentMiddleName,StudentLastName,"
    "Gender,BirthDate,MultiRace,HispanicOrLatino,AmericanIndianOrAlaskaNative,Asian,"
    "BlackOrAfricanAmerican,NativeHawaiianOrOtherPacificIslander,White,CurrentGrade,"
    "EnrollmentStatus,DistrictRenaissanceID,DistrictSourcedID,DistrictIdentifier,"
    "DistrictStateID,DistrictName,SchoolRenaissanceID,SchoolSourcedID,SchoolIdentifier,"
    "SchoolStateID,SchoolName,CourseRenaissanceID,CourseSourcedID,CourseCode,CourseName,"
    "ClassRenaissanceID,ClassSourcedID,ClassCode,GroupID,GroupOrClassName,"
    "TeacherRenaissanceID,TeacherSourcedID,TeacherIdentifier,TeacherUserID,"
    "TeacherStateID,TeacherEmail,TeacherFirstName,TeacherMiddleName,TeacherLastName,"
)

# Growth, screening and benchmark columns that Star Reading and Early Literacy share.
_V2_GROWTH_AND_BENCHMARKS = (
    "StudentGrowthPercentileFallSpring,StudentGrowthPercentileFallWinter,"
    "StudentGrowthPercentileSpringFall,StudentGrowthPercentileSpringSpring,"
    "StudentGrowthPercentileWinterSpring,ScreeningPeriodWindowName,"
    "ScreeningWindowStartDate,ScreeningWindowEndDate,RenaissanceBenchmarkCategoryName,"
    "RenaissanceBenchmarkCategoryLevel,RenaissanceBenchmarkCategoryNumberOfLevels,"
    "RenaissanceBenchmarkCategoryMinPercentileRank,"
    "RenaissanceBenchmarkCategoryMaxPercentileRank,StateBenchmarkAssessmentName,"
    "StateBenchmarkCategoryName,StateBenchmarkProficient,StateBenchmarkCategoryLevel,"
    "StateBenchmarkNumberOfCategoryLevels,StateBenchmarkMinScaledScore,"
    "StateBenchmarkMaxScaledScore,DistrictBenchmarkCategoryName,"
    "DistrictBenchmarkProficient,DistrictBenchmarkCategoryLevel,"
    "DistrictBenchmarkNumberOfCategoryLevels,DistrictBenchmarkMinPercentileRank,"
    "DistrictBenchmarkMaxPercentileRank,SchoolBenchmarkCategoryName,"
    "SchoolBenchmarkProficient,SchoolBenchmarkCategoryLevel,"
    "SchoolBenchmarkNumberOfCategoryLevels,SchoolBenchmarkMinPercentileRank,"
    "SchoolBenchmarkMaxPercentileRank,CurrentSGP,TakenAt,TakenAtByIPAddress,"
    "StudentDisplayID,TeacherDisplayID,"
)

HEADERS: dict[tuple[str, str], tuple[str, ...]] = {
    ("v2", "SR"): _h(
        _V2_ROSTER + "AssessmentID,LaunchDate,CompletedDate,CompletedDateLocal,AssessmentNumber,"
        "AssessmentType,AssessmentStatus,DeactivationReason,GradePlacement,Grade,ExtraTime,"
        "ScaledScore,StandardErrorOfMeasurement,RaschScore,UnifiedScore,"
        "PartnershipForAssessmentOfReadinessForCollegeAndCareers,"
        "SmarterBalancedAssessmentConsortium,OpenGrowthScore,GradeEquivalent,PercentileRank,"
        "NormalCurveEquivalent,InstructionalReadingLevel,EstimatedOralReadingFluency,"
        "LowerZoneOfProximalDevelopment,UpperZoneOfProximalDevelopment,Lexile,"
        "LowerLexileZoneOfProximalDevelopment,UpperLexileZoneOfProximalDevelopment,"
        "TotalTimeInSeconds,TotalCorrect,TotalPossible,Grade3_AssessmentAttempts,"
        "Grade3_PassingStatus,Grade3_PassingScore,StudentGrowthPercentileFallFall,"
        + _V2_GROWTH_AND_BENCHMARKS
        + "SATBenchmarkCategory,ACTBenchmarkCategory"
    ),
    ("v2", "SM"): _h(
        _V2_ROSTER + "AssessmentID,LaunchDate,CompletedDate,CompletedDateLocal,AssessmentNumber,"
        "AssessmentType,AssessmentStatus,DeactivationReason,GradePlacement,Grade,ExtraTime,"
        "Audio,ScaledScore,StandardErrorOfMeasurement,RaschScore,UnifiedScore,"
        "PartnershipForAssessmentOfReadinessForCollegeAndCareers,"
        "SmarterBalancedAssessmentConsortium,OpenGrowthScore,GradeEquivalent,PercentileRank,"
        "NormalCurveEquivalent,TotalTimeInSeconds,TotalCorrect,TotalPossible,"
        "StudentGrowthPercentileFallFall,StudentGrowthPercentileFallSpring,"
        "StudentGrowthPercentileFallWinter,StudentGrowthPercentileSpringFall,"
        "StudentGrowthPercentileSpringSpring,StudentGrowthPercentileWinterSpring,"
        "ScreeningPeriodWindowName,ScreeningWindowStartDate,ScreeningWindowEndDate,"
        "RenaissanceBenchmarkCategoryName,RenaissanceBenchmarkCategoryLevel,"
        "RenaissanceBenchmarkCategoryNumberOfLevels,"
        "RenaissanceBenchmarkCategoryMinPercentileRank,"
        "RenaissanceBenchmarkCategoryMaxPercentileRank,StateBenchmarkAssessmentName,"
        "StateBenchmarkCategoryName,StateBenchmarkProficient,StateBenchmarkCategoryLevel,"
        "StateBenchmarkNumberOfCategoryLevels,StateBenchmarkMinScaledScore,"
        "StateBenchmarkMaxScaledScore,DistrictBenchmarkCategoryName,"
        "DistrictBenchmarkProficient,DistrictBenchmarkCategoryLevel,"
        "DistrictBenchmarkNumberOfCategoryLevels,DistrictBenchmarkMinPercentileRank,"
        "DistrictBenchmarkMaxPercentileRank,SchoolBenchmarkCategoryName,"
        "SchoolBenchmarkProficient,SchoolBenchmarkCategoryLevel,"
        "SchoolBenchmarkNumberOfCategoryLevels,SchoolBenchmarkMinPercentileRank,"
        "SchoolBenchmarkMaxPercentileRank,CurrentSGP,Quantile,TakenAt,TakenAtByIPAddress,"
        "StudentDisplayID,TeacherDisplayID,SATBenchmarkCategory,ACTBenchmarkCategory"
    ),
    ("v2", "SEL"): _h(
        _V2_ROSTER + "AssessmentID,LaunchDate,CompletedDate,CompletedDateLocal,AssessmentNumber,"
        "AssessmentType,AssessmentStatus,DeactivationReason,GradePlacement,Grade,ExtraTime,"
        "ScaledScore,StandardErrorOfMeasurement,RaschScore,UnifiedScore,"
        "PartnershipForAssessmentOfReadinessForCollegeAndCareers,"
        "SmarterBalancedAssessmentConsortium,OpenGrowthScore,GradeEquivalent,PercentileRank,"
        "NormalCurveEquivalent,EstimatedOralReadingFluency,LiteracyClassification,"
        "TotalTimeInSeconds,TotalCorrect,TotalPossible,StudentGrowthPercentileFallFall,"
        + _V2_GROWTH_AND_BENCHMARKS
        + "Lexile,LexileRange"
    ),
    ("legacy", "SR"): _h(
        "StudentLocalID,StudentStateID,StudentFirst,StudentMiddle,StudentLast,Gender,"
        "BirthDate,Ethnicity,CurrentGrade,DistrictStateID,SchoolLocalID,SchoolStateID,"
        "SchoolName,CourseNumber,CourseName,ClassNumber,TeacherLocalID,TeacherStateID,"
        "TeacherFirst,TeacherMiddle,TeacherLast,StudentAssessmentID,AssessmentDate,"
        "GradePlacement,Grade,ScaledScore,SEM,RaschScore,UniversalScore,GradeEquivalent,"
        "PercentileRank,NormalCurveEquivalent,IRL,ORF,LowerZPD,UpperZPD,Lexile,"
        "LowerLexileZPD,UpperLexileZPD,SectionATime,SectionBTime,TotalTime,TotalCorrect,"
        "AssessmentNumber,TestType,WindowName,WindowStart,WindowEnd,"
        "ScreeningCategoryGroupAdjustment,StateBenchmarkName,"
        "StateBenchmarkCategoryAdjustment,StateBenchmarkCategoryGroupAdjustment,TestStatus,"
        "DeactivationReason,GlobalWindow,ProbableTestType,CurrentSGP"
    ),
    ("legacy", "SM"): _h(
        "StudentLocalID,StudentStateID,StudentFirst,StudentMiddle,StudentLast,Gender,"
        "BirthDate,Ethnicity,CurrentGrade,DistrictStateID,SchoolLocalID,SchoolStateID,"
        "SchoolName,CourseNumber,CourseName,ClassNumber,TeacherLocalID,TeacherStateID,"
        "TeacherFirst,TeacherMiddle,TeacherLast,StudentAssessmentID,AssessmentDate,"
        "GradePlacement,Grade,ScaledScore,SEM,RaschScore,GradeEquivalent,PercentileRank,"
        "NormalCurveEquivalent,TotalTime,TotalDuration,TotalCorrect,AssessmentNumber,"
        "TestType,WindowName,WindowStart,WindowEnd,ScreeningCategoryGroupAdjustment,"
        "StateBenchmarkName,StateBenchmarkCategoryAdjustment,"
        "StateBenchmarkCategoryGroupAdjustment,TestStatus,DeactivationReason,GlobalWindow,"
        "ProbableTestType,CurrentSGP"
    ),
    ("legacy", "SEL"): _h(
        "StudentLocalID,StudentStateID,StudentFirst,StudentMiddle,StudentLast,Gender,"
        "BirthDate,Ethnicity,CurrentGrade,DistrictStateID,SchoolLocalID,SchoolStateID,"
        "SchoolName,CourseNumber,CourseName,ClassNumber,TeacherLocalID,TeacherStateID,"
        "TeacherFirst,TeacherMiddle,TeacherLast,StudentAssessmentID,AssessmentDate,"
        "GradePlacement,Grade,StudentAge,ScaledScore,SEM,RaschScore,UniversalScore,"
        "LiteracyClassification,EstimatedOralReadingFluency,PercentileRank,TestDuration,"
        "TotalDuration,AssessmentNumber,TestType,WindowName,WindowStart,WindowEnd,"
        "ScreeningCategoryGroupAdjustment,TestStatus,DeactivationReason,GlobalWindow,"
        "ProbableTestType,CurrentSGP,SEL_SubDomain_AP_AlphabeticPrinciple,"
        "SEL_AP_SkillSet_AlphabeticKnowledge,SEL_AP_SkillSet_AlphabeticSequence,"
        "SEL_AP_SkillSet_LetterSounds,SEL_SubDomain_CW_ConceptOfWord,"
        "SEL_CW_SkillSet_PrintConceptsWordLength,SEL_CW_SkillSet_PrintConceptsWordBorders,"
        "SEL_CW_SkillSet_PrintConceptsLettersAndWords,SEL_SubDomain_VS_VisualDiscrimination,"
        "SEL_VS_SkillSet_Letters,SEL_VS_SkillSet_IdentificationAndWordMatching,"
        "SEL_SubDomain_PA_PhonemicAwareness,SEL_PA_SkillSet_RhymingAndWordFamilies,"
        "SEL_PA_SkillSet_BlendingWordParts,SEL_PA_SkillSet_BlendingPhonemes,"
        "SEL_PA_SkillSet_InitialAndFinalPhonemes,SEL_PA_SkillSet_ConsonantBlends,"
        "SEL_PA_SkillSet_MedialPhonemeDiscrimination,SEL_PA_SkillSet_PhonemeSegmentation,"
        "SEL_PA_SkillSet_PhonemeIsolationManipulation,SEL_SubDomain_PH_Phonics,"
        "SEL_PH_SkillSet_LongVowelSounds,SEL_PH_SkillSet_ShortVowelSounds,"
        "SEL_PH_SkillSet_InitialConsonantSounds,SEL_PH_SkillSet_FinalConsonantSounds,"
        "SEL_PH_SkillSet_SoundSymbolCorrespondenceConsonants,"
        "SEL_PH_SkillSet_SoundSymbolCorrespondenceVowels,SEL_PH_SkillSet_WordFamiliesRhyming,"
        "SEL_PH_SkillSet_ConsonantBlends,SEL_PH_SkillSet_ConsonantDigraphs,"
        "SEL_PH_SkillSet_VariantVowelSounds,SEL_PH_SkillSet_OtherVowelSounds,"
        "SEL_PH_SkillSet_WordBuilding,SEL_SubDomain_SA_StructuralAnalysis,"
        "SEL_SA_SkillSet_WordsWithAffixes,SEL_SA_SkillSet_Syllabification,"
        "SEL_SA_SkillSet_CompoundWords,SEL_SubDomain_VO_Vocabulary,"
        "SEL_VO_SkillSet_WordFacility,SEL_VO_SkillSet_Synonyms,SEL_VO_SkillSet_Antonyms,"
        "SEL_SubDomain_SC_SentenceLevelComprehension,"
        "SEL_SC_SkillSet_ComprehensionAtTheSentenceLevel,"
        "SEL_SubDomain_PC_ParagraphLevelComprehension,"
        "SEL_PC_SkillSet_ComprehensionOfParagraphs,SEL_SubDomain_EN_EarlyNumeracy,"
        "SEL_EN_SkillSet_NumberNamingAndNumberIdentification,SEL_EN_SkillSet_Measurement,"
        "SEL_EN_SkillSet_SequenceCompletion,SEL_EN_SkillSet_NumberObjectCorrespondence,"
        "SEL_EN_SkillSet_ComposingAndDecomposing"
    ),
}


def column_specs(layout: str, product: str) -> dict[str, ColumnSpec]:
    """Every column of the layout, typed where `_TYPES` says so."""
    types = _TYPES[layout]
    return {c: ColumnSpec(c, types.get(c, "string")) for c in HEADERS[(layout, product)]}  # type: ignore[arg-type]
